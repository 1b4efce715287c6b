import { describe, expect, it } from 'vitest';
import type { ProtectiveStopUpdate } from '../../src/model/protective-stops.js';
import { CoreDriver, eventsOf, stateWithPositions, withConfig } from './fixtures.js';

// ALGO_UPDATE CANCELED or EXPIRED for a stop the session still tracks: a cancel the engine did not make. The stop is
// dropped, an alert raised and a new one planned in the same decision, however long the periodic check is.

const slowChecks = withConfig({ protectiveStopCheckMs: 600_000, protectiveStopIdleCheckMs: 600_000 });

function guarded(): { d: CoreDriver; stopId: string } {
  const d = new CoreDriver({ config: slowChecks });
  d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 0.1, entryPrice: 60_000 }], config: slowChecks });
  d.tick('BTCUSDT', 59_990, 60_000);
  const planned = eventsOf(d.timer(1_000).wal, 'stop.planned')[0] ?? eventsOf(d.wal, 'stop.planned')[0];
  if (!planned) throw new Error('no stop planned');
  d.step({ kind: 'stop_placed', userId: 'u', symbol: 'BTCUSDT', clientAlgoId: planned.clientAlgoId, outcome: { kind: 'accepted' } });
  return { d, stopId: planned.clientAlgoId };
}

const news = (clientAlgoId: string, status: ProtectiveStopUpdate['status']): ProtectiveStopUpdate => ({
  clientAlgoId,
  algoId: '1',
  symbol: 'BTCUSDT',
  side: 'SELL',
  status,
  actualOrderId: null,
  updateTime: 0,
});

describe('ALGO_UPDATE for our protective stops', () => {
  it.each(['CANCELED', 'EXPIRED'] as const)('%s: re-placed at once, with an alert and a position read', (status) => {
    const { d, stopId } = guarded();
    d.nowMs += 2_000; // well inside the ten-minute check period
    const decision = d.step({ kind: 'stop_news', userId: 'u', mode: 'paper', update: news(stopId, status) });
    expect(eventsOf(decision.wal, 'stop.removed')).toEqual([expect.objectContaining({ clientAlgoId: stopId })]);
    const again = eventsOf(decision.wal, 'stop.planned');
    expect(again).toHaveLength(1);
    expect(again[0]?.clientAlgoId).not.toBe(stopId);
    expect(decision.effects.filter((e) => e.kind === 'place_stop')).toHaveLength(1);
    expect(decision.effects.some((e) => e.kind === 'reconcile')).toBe(true);
    expect(decision.outbound.some((e) => e.type === 'alert' && e.kind === 'protective_stop')).toBe(true);
  });

  it('ignores other statuses, stops it no longer tracks and the other mode’s account', () => {
    const { d, stopId } = guarded();
    for (const input of [
      { kind: 'stop_news', userId: 'u', mode: 'paper', update: news(stopId, 'TRIGGERED') },
      { kind: 'stop_news', userId: 'u', mode: 'paper', update: news('qs-someone-else', 'CANCELED') },
      { kind: 'stop_news', userId: 'u', mode: 'live', update: news(stopId, 'CANCELED') },
    ] as const) {
      const decision = d.peek(input);
      expect(decision.wal).toEqual([]);
      expect(decision.effects).toEqual([]);
    }
  });
});
