import { describe, expect, it } from 'vitest';
import { outcomeFromWal } from '../../src/engine/commit-outcome.js';

// What the WAL after the engine's last id says of a step whose commit answer was lost (src/engine/commit-outcome.ts):
// exactly the step's events is a step that landed, nothing is one that did not, anything else is not guessed at.

const step = ['{"a":1}', '{"b":2}'];
const records = (...data: string[]) => data.map((d, i) => ({ id: `${i + 1}-0`, data: d }));

describe('outcomeFromWal', () => {
  it('exactly the step: landed, with its ids', () => {
    expect(outcomeFromWal(records(...step), step)).toEqual({ kind: 'landed', walIds: ['1-0', '2-0'] });
  });

  it('nothing after the last id: not landed', () => {
    expect(outcomeFromWal([], step)).toEqual({ kind: 'not_landed' });
  });

  it('a part of the step, the step and more, or other records: unresolvable', () => {
    for (const after of [records(step[0] ?? ''), records(...step, '{"c":3}'), records('{"b":2}', '{"a":1}'), records('{"x":0}', '{"y":0}')]) {
      expect(outcomeFromWal(after, step).kind).toBe('unresolvable');
    }
  });
});
