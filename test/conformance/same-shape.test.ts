import { describe, expect, it } from 'vitest';
import { sameShape, unexpectedDifferences } from './same-shape.js';

describe('sameShape', () => {
  it('reports missing, extra and mistyped fields by path, through nested objects and arrays', () => {
    const doc = { e: 'X', E: 1, o: { q: '0.001', m: false, n: null }, P: [{ pa: '0', ps: 'BOTH' }] };
    const actual = { e: 'X', E: '1', o: { q: 'NaN', m: false, n: null, extra: 1 }, P: [{ pa: '1' }, { pa: '2' }] };
    expect(sameShape(doc, actual)).toEqual([
      { path: 'E', kind: 'type', expected: 'number', actual: 'string' },
      { path: 'o.q', kind: 'type', expected: 'decimal string', actual: 'string' },
      { path: 'o.extra', kind: 'extra', actual: 'number' },
      { path: 'P[].ps', kind: 'missing', expected: 'string' },
    ]);
  });

  it('equal shapes with other values agree; an empty array on either side is not compared', () => {
    expect(sameShape({ a: '1.5', b: [{ c: 1 }], d: [] }, { a: '-0.00000001', b: [], d: [{ x: 1 }] })).toEqual([]);
  });

  it('known differences are filtered by path and kind only', () => {
    const known = [{ path: 'o.AP', kind: 'missing' as const, reason: 'trailing stops only' }];
    expect(unexpectedDifferences({ o: { AP: '1' } }, { o: {} }, known)).toEqual([]);
    expect(unexpectedDifferences({ o: { AP: '1' } }, { o: { AP: 1 } }, known)).toHaveLength(1);
  });
});
