import { describe, expect, it } from 'vitest';
import { partitionsWanted, rebalanceStep } from '../../src/cluster/worker-rules.js';

// The rule that spreads partitions over workers (issue 13): at most ceil(P / live) each, claims from an offset of
// the worker's own, one partition given back per beat when above the share.

describe('spreading partitions over workers', () => {
  it('wants ceil(P / live workers), all of them when alone', () => {
    expect(partitionsWanted(16, 1)).toBe(16);
    expect(partitionsWanted(16, 3)).toBe(6);
    expect(partitionsWanted(4, 2)).toBe(2);
    expect(partitionsWanted(4, 8)).toBe(1); // more workers than partitions: the rest stand by
    expect(partitionsWanted(4, 0)).toBe(4); // the registry not read yet: the worker itself is live
  });

  it('claims what it does not hold, every partition once, from its own offset', () => {
    const a = rebalanceStep('worker-a', 8, new Set([1]), 2);
    expect(a.release).toBeNull();
    expect([...a.tryClaim].sort((x, y) => x - y)).toEqual([0, 2, 3, 4, 5, 6, 7]);
    const starts = new Set(['w1', 'w2', 'w3', 'w4', 'w5', 'w6'].map((w) => rebalanceStep(w, 8, new Set(), 2).tryClaim[0]));
    expect(starts.size).toBeGreaterThan(1); // workers do not all race for partition 0
  });

  it('gives back one partition per beat above its share, and does nothing at it', () => {
    expect(rebalanceStep('a', 4, new Set([0, 1, 2, 3]), 2)).toEqual({ tryClaim: [], release: 3, wanted: 2 });
    expect(rebalanceStep('a', 4, new Set([0, 1]), 2)).toEqual({ tryClaim: [], release: null, wanted: 2 });
  });
});
