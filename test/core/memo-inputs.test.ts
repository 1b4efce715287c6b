import { describe, expect, it } from 'vitest';
import { CoreDriver, eventsOf, stateWithPositions, withConfig } from './fixtures.js';

// A session event that leaves the positions alone (a setting) makes a new session object sharing the positions
// record, and the stop-loss bound (mtm.ts) and the protective stop's trigger (protective-stops.ts) are reused from
// that record when the figures they were made from are unchanged. A changed stop-loss must still move both: the
// trigger (a new stop planned at another price) and the breach (a tick that the tighter stop-loss no longer allows).

const config = withConfig({ protectiveStopCheckMs: 1_000 });

describe('a stop-loss changed with the positions untouched', () => {
  it('moves the protective stop and the breach price', () => {
    const d = new CoreDriver({ config });
    d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 0.1, entryPrice: 60_000 }], config });
    d.tick('BTCUSDT', 59_990, 60_000);
    const first = eventsOf(d.timer(1_000).wal, 'stop.planned')[0];
    if (!first) throw new Error('no stop planned');
    d.step({ kind: 'stop_placed', userId: 'u', symbol: 'BTCUSDT', clientAlgoId: first.clientAlgoId, outcome: { kind: 'accepted' } });

    // 5 % of 10 000 on 0.1 BTC: 5 000 a BTC below the entry. Tightened to 1 %: 1 000 below.
    d.command({ id: 'tighten', userId: 'u', type: 'session.set_stoploss', pct: 1 });
    const moved = [...eventsOf(d.wal, 'stop.planned')].pop();
    d.timer(1_000);
    const replanned = [...eventsOf(d.wal, 'stop.planned')].pop();
    const trigger = (moved?.clientAlgoId !== first.clientAlgoId ? moved : replanned)?.triggerPrice;
    expect(first.triggerPrice).toBe('55000.0');
    expect(trigger).toBe('59000.0');

    // Back to 5 %: the record is the same as at first, the figures too; and a tick 2 000 below the entry is within 5 %.
    d.command({ id: 'loosen', userId: 'u', type: 'session.set_stoploss', pct: 5 });
    const fine = d.tick('BTCUSDT', 58_000, 58_010);
    expect(eventsOf(fine.wal, 'kill_switch.engaged')).toEqual([]);
    // Tightened again to 1 %: the same tick level now breaches it.
    d.command({ id: 'tighten-again', userId: 'u', type: 'session.set_stoploss', pct: 1 });
    const breach = d.tick('BTCUSDT', 57_990, 58_000);
    expect(eventsOf(breach.wal, 'kill_switch.engaged')).toHaveLength(1);
  });
});
