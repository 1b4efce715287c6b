import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSilenceProbeRation } from '../../src/exchange/binance/probe-ration.js';

// The silence probes' ration: evenly spaced, the longest-waiting stream first, a stream past the ration waits (never
// dropped), one that no longer needs its probe spends nothing, a withdrawn one is never called.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('silence probe ration', () => {
  it('lets probes out one per 60 000 / perMinute ms, in request order, and drops none', () => {
    const ration = createSilenceProbeRation(60, () => Date.now()); // one per second
    const sent: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) ration.request(() => (sent.push(name), true));
    expect(sent).toEqual(['a']);
    vi.advanceTimersByTime(999);
    expect(sent).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual(['a', 'b']);
    ration.request(() => (sent.push('a again'), true)); // a's next silence: behind those already waiting
    vi.advanceTimersByTime(3_000);
    expect(sent).toEqual(['a', 'b', 'c', 'd', 'a again']);
  });

  it('spends nothing on a probe no longer needed, and never calls a withdrawn one', () => {
    const ration = createSilenceProbeRation(60, () => Date.now());
    const sent: string[] = [];
    ration.request(() => (sent.push('a'), true));
    ration.request(() => false); // heard from meanwhile
    const withdraw = ration.request(() => (sent.push('closed'), true));
    ration.request(() => (sent.push('c'), true));
    withdraw();
    vi.advanceTimersByTime(1_000);
    expect(sent).toEqual(['a', 'c']);
    vi.advanceTimersByTime(10_000);
    expect(sent).toEqual(['a', 'c']);
  });
});
