import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/decide.js';
import { CoreDriver, eventsOf, stateWithPositions, withConfig } from './fixtures.js';

// A protective stop's placement and its cancel travel apart: under load the placement may land after the cancel, an
// orphan the state no longer tracks. Checks find it (onStopsListed cancels ours untracked) for a while after a
// removal. A session that closed in that window used to be checked no more, and its orphan rested on the exchange.

const config = withConfig({ protectiveStopCheckMs: 300, protectiveStopIdleCheckMs: 60_000 });
const checksOf = (decisions: readonly Decision[]): number =>
  decisions.reduce((n, d) => n + d.effects.filter((e) => e.kind === 'list_stops' && e.userId === 'u').length, 0);

/** A session holding BTCUSDT with a stop-loss, whose protective stop's placement was just planned. */
function holdingWithStopPlanned() {
  const d = new CoreDriver({ config });
  d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 0.1, entryPrice: 60_000 }], config });
  d.tick('BTCUSDT', 59_990, 60_000);
  const planned = eventsOf(d.timer(1_000).wal, 'stop.planned')[0] ?? eventsOf(d.wal, 'stop.planned')[0];
  if (!planned) throw new Error('no stop planned');
  return { d, planned };
}

describe('the stop sweep after a session closes', () => {
  it('still checks the stops of a session that closed right after removing one', () => {
    const { d, planned } = holdingWithStopPlanned();
    d.step({ kind: 'stop_placed', userId: 'u', symbol: 'BTCUSDT', clientAlgoId: planned.clientAlgoId, outcome: { kind: 'accepted' } });

    const stop = d.command({ id: 'c-stop', userId: 'u', type: 'session.stop' });
    const flatten = eventsOf(stop.wal, 'order.planned').find((e) => e.order.purpose === 'flatten');
    if (!flatten) throw new Error('no flatten planned');
    const filled = d.fill(flatten.order.clientOrderId, 59_990);
    expect(eventsOf(filled.wal, 'session.closed')).toHaveLength(1);
    expect([...eventsOf(stop.wal, 'stop.removed'), ...eventsOf(filled.wal, 'stop.removed')]).toHaveLength(1);

    // The next beats inside the sweep window (3 check periods) check the closed session's stops.
    const beats = [d.timer(310), d.timer(310)];
    expect(checksOf(beats)).toBeGreaterThan(0);
  });
});

describe('a stop missing from a listing while its placement is unanswered', () => {
  it('is cancelled as well as forgotten: the placement may still land after the listing', () => {
    const { d, planned } = holdingWithStopPlanned();
    // No answer to the placement; a check period later the exchange lists no stop.
    d.timer(400);
    const listed = d.step({ kind: 'stops_listed', userId: 'u', stops: [] });
    expect(eventsOf(listed.wal, 'stop.removed').map((e) => e.clientAlgoId)).toEqual([planned.clientAlgoId]);
    // Cancelled too: the executor holds this cancel until the placement is answered, so it reaches the exchange after it.
    expect(listed.effects.filter((e) => e.kind === 'cancel_stop').map((e) => (e.kind === 'cancel_stop' ? e.clientAlgoId : ''))).toEqual([planned.clientAlgoId]);
  });
});

describe('a listing asked for before a stop was placed', () => {
  it('is not taken as the stop gone: its placement may have reached the exchange after the listing was read', () => {
    const { d, planned } = holdingWithStopPlanned();
    // The pass that planned the stop asked for a listing too (the check was due): the two reads travel apart, the
    // placement on the priority lane. It is accepted, then the listing (read before it landed) comes without it.
    const askedAtMs = planned.atMs;
    d.step({ kind: 'stop_placed', userId: 'u', symbol: 'BTCUSDT', clientAlgoId: planned.clientAlgoId, outcome: { kind: 'accepted' } });
    const listed = d.step({ kind: 'stops_listed', userId: 'u', stops: [], askedAtMs });
    expect(eventsOf(listed.wal, 'stop.removed')).toEqual([]);
    expect(listed.outbound.filter((e) => e.type === 'alert')).toEqual([]);
    expect(listed.effects.filter((e) => e.kind === 'place_stop' || e.kind === 'cancel_stop')).toEqual([]);
    // A listing asked for after the placement that still lacks it: the stop is gone (fired, cancelled) and is replaced.
    d.timer(400);
    const later = d.step({ kind: 'stops_listed', userId: 'u', stops: [], askedAtMs: askedAtMs + 300 });
    expect(eventsOf(later.wal, 'stop.removed').map((e) => e.clientAlgoId)).toEqual([planned.clientAlgoId]);
  });

  it('asks for the listing with its time, as the trade and income reads do', () => {
    const d = new CoreDriver({ config });
    d.state = stateWithPositions({ capitalUsd: 10_000, stopLossPct: 5, positions: [{ symbol: 'BTCUSDT', qty: 0.1, entryPrice: 60_000 }], config });
    d.tick('BTCUSDT', 59_990, 60_000);
    const beat = d.timer(1_000);
    const reads = beat.effects.filter((e) => e.kind === 'list_stops');
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ askedAtMs: d.nowMs });
  });
});
