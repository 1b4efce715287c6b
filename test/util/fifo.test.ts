import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/util/fifo.js';

describe('Fifo', () => {
  it('gives items back in the order pushed, across the compaction of its spent front', () => {
    const fifo = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 5_000; i += 1) {
      fifo.push(i);
      if (i % 3 === 2) out.push(fifo.shift() ?? -1); // keeps a growing backlog, so the front is cut while items wait
    }
    expect(fifo.peek()).toBe(out.length);
    while (fifo.length > 0) out.push(fifo.shift() ?? -1);
    expect(out).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.peek()).toBeUndefined();
  });
});
