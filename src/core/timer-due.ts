import type { CoreConfig } from './config.js';
import { passes, peekSchedule, stopGlobalsSame } from './schedule.js';
import { indexOf } from './state-index.js';
import type { EngineState } from './state.js';
import { allVenues, lastHeardMs } from './venues.js';

// When a watchdog beat can next decide anything. A beat (decide's `timer` input) runs the risk rules, order
// housekeeping, owed reads, equity samples, the flatten enforcement and the protective-stop pass; each of these acts
// only on what its schedule names (schedule.ts: dirty or due sessions, the waiting checks), on open orders and their
// noted times, on owed reads, on sessions that must be flat, and on holders of a silent feed. Before the time this
// gives, none of them has anything to act on, so a beat decides nothing and leaves the state as it was (the same
// records, not equal copies): a caller that beats on a cadence, as the backtest does every simulated second, may skip
// those beats and decide exactly what it would have. The simulation checks that claim after every decision
// (deterministic-sim/invariants.ts, quietBeatMisses). The answer errs only early: a beat at or after it may find
// nothing to do after all.

/**
 * The earliest time (ms) a timer beat decided on `state` could decide anything: -Infinity when one may act at once,
 * Infinity when none can until another input changes the state.
 */
export function nextTimerWorkMs(state: EngineState, config: Pick<CoreConfig, 'orderQueryIntervalMs' | 'staleFeedMs'>): number {
  const schedule = peekSchedule(state);
  const { durable, market } = state;
  // No schedule (the next decision's passes scan every session) or one that must wake every session.
  if (schedule === null || !stopGlobalsSame(schedule, durable, market)) return Number.NEGATIVE_INFINITY;
  let earliest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < passes.length; i += 1) {
    const planned = schedule.passes.get(passes[i] as (typeof passes)[number]);
    // A pass that never ran scans everyone; records changed since it ran, or a check waiting its turn, are for now.
    if (planned === undefined || planned.dirty.size > 0 || planned.backlog.length > 0 || planned.waiting.size > 0) return Number.NEGATIVE_INFINITY;
    earliest = Math.min(earliest, planned.due.firstDueMs());
  }
  const index = indexOf(durable);
  // Open orders are queried, timed out and expired by the beat, and the times noted for orders that ended are
  // forgotten by it; sessions that must be flat are worked on by every input.
  if (index.openOrders.size > 0 || index.flattening.size > 0 || (durable.halted && index.busy.size > 0)) return Number.NEGATIVE_INFINITY;
  if (market.lastQueryAtMs.size > 0 || market.lastCancelAtMs.size > 0) return Number.NEGATIVE_INFINITY;
  // A read unanswered for orderQueryIntervalMs is asked again (trade-reads-owed.ts).
  // (Asked only when some are owed: the closure is an allocation on every quote the backtest asks this for.)
  if (market.owedReadsAskedAtMs.size > 0)
    market.owedReadsAskedAtMs.forEach((askedAtMs) => {
      earliest = Math.min(earliest, askedAtMs + config.orderQueryIntervalMs);
    });
  // A held symbol's feed silent for over staleFeedMs on some venue concerns its holders (risk-rules.ts staleHolders).
  for (const symbol of index.holdersBySymbol.keys()) {
    for (const venue of allVenues) {
      const heardMs = lastHeardMs(market.venues, venue, symbol);
      if (heardMs !== undefined) earliest = Math.min(earliest, heardMs + config.staleFeedMs);
    }
  }
  return earliest;
}
