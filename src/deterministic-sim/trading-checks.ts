import type { Decision } from '../core/decide.js';
import type { CoreConfig } from '../core/config.js';
import type { WalEvent } from '../core/events.js';
import { stopLossLevelUsd, valueSession } from '../core/mtm.js';
import type { Order } from '../core/state.js';
import { lastHeardMs } from '../core/venues.js';
import { compareDecimal, gt, isMultipleOf, isZero, plainDecimalPattern, zero } from '../model/decimal.js';
import { check } from './check.js';

// The audited system's trading rules, checked on what the engine decides (invariants.ts decisionChecks): how each
// order goes to the exchange (post-only first, a bounded fallback, reduce-only exits, on the symbol's grid), where
// each protective stop rests, and that a beat leaves no session trading past its stop-loss, horizon or a silent feed.

/** Every check of one planned order, as it will be sent. */
export function orderAsSent(d: Decision, order: Order, config: CoreConfig): void {
  orderOnTheGrid(d, order);
  routedAsPolicy(order);
  // Only entries may add to a position: every reduce and flatten goes reduce-only, so a stale view of the position
  // can at worst be refused (-2022), never open the other side.
  check(order.reduceOnly === (order.purpose !== 'entry'), `${order.purpose} ${order.clientOrderId} planned with reduceOnly ${order.reduceOnly}`);
  if (order.fallbackOf !== null) fallbackWithinBound(d, order, config.fallbackBoundBps);
}

/**
 * A protective stop is on the tick and closes the position it guards: a sell stop below the entry of a long, a buy
 * stop above a short's.
 */
export function stopGuardsItsPosition(d: Decision, e: Extract<WalEvent, { type: 'stop.planned' }>): void {
  const tickSize = d.state.market.venues.paper.filters[e.symbol]?.tickSize;
  check(tickSize !== undefined && isMultipleOf(e.triggerPrice, tickSize), `stop ${e.clientAlgoId} triggers at ${e.triggerPrice}, off the tick ${tickSize}`);
  const held = d.state.durable.sessions.get(e.userId)?.positions[e.symbol];
  const long = held !== undefined && gt(held.qty, zero);
  check(
    held !== undefined && !isZero(held.qty) && e.side === (long ? 'SELL' : 'BUY') && compareDecimal(e.triggerPrice, held.entryPrice) === (long ? -1 : 1),
    `stop ${e.clientAlgoId} ${e.side} at ${e.triggerPrice} does not guard ${e.userId}'s ${e.symbol} position ${held ? `${held.qty} @ ${held.entryPrice}` : 'none'}`,
  );
}

/**
 * What goes to the exchange is on its grid, as decimal strings: the quantity an exact multiple of the step
 * (MARKET_LOT_SIZE's for a market order) within the lot's bounds, the price an exact multiple of the tick within
 * PRICE_FILTER's. The venue refuses one off it (-1111, -4014, -4003, -4005), which the run would only count as a refusal.
 */
function orderOnTheGrid(d: Decision, order: Order): void {
  const filters = d.state.market.venues.paper.filters[order.symbol];
  check(filters !== undefined, `order ${order.clientOrderId} planned with no filters for ${order.symbol}`);
  if (!filters) return;
  const market = order.type === 'MARKET';
  const [step, minQty, maxQty] = market
    ? [filters.marketStepSize, filters.marketMinQty, filters.marketMaxQty]
    : [filters.stepSize, filters.minQty, filters.maxQty];
  check(
    plainDecimalPattern.test(order.quantity) &&
      isMultipleOf(order.quantity, step) &&
      compareDecimal(order.quantity, minQty) >= 0 &&
      compareDecimal(order.quantity, maxQty) <= 0,
    `order ${order.clientOrderId} quantity ${order.quantity} is off the ${order.symbol} step ${step} or outside ${minQty}..${maxQty}`,
  );
  check((order.price === null) === market, `order ${order.clientOrderId} (${order.type}) ${market ? 'has' : 'lacks'} a price`);
  if (order.price !== null)
    check(
      plainDecimalPattern.test(order.price) &&
        isMultipleOf(order.price, filters.tickSize) &&
        compareDecimal(order.price, filters.minPrice) >= 0 &&
        compareDecimal(order.price, filters.maxPrice) <= 0,
      `order ${order.clientOrderId} price ${order.price} is off the ${order.symbol} tick ${filters.tickSize} or outside ${filters.minPrice}..${filters.maxPrice}`,
    );
}

/**
 * The routing policy the audit kept: an entry or reduction goes post-only first (LIMIT GTX), and only its fallback after
 * -5022 takes liquidity, as a LIMIT IOC (bounded: fallbackWithinBound); only a flatten goes at market.
 */
function routedAsPolicy(order: Order): void {
  const how = `${order.type} ${order.timeInForce ?? ''}`.trim();
  const expected = order.purpose === 'flatten' ? 'MARKET' : order.fallbackOf === null ? 'LIMIT GTX' : 'LIMIT IOC';
  check(how === expected, `${order.purpose} ${order.clientOrderId}${order.fallbackOf === null ? '' : ` (fallback)`} sent as ${how}, not ${expected}`);
}

/**
 * A post-only order's fallback (the limit IOC after -5022) takes liquidity at most boundBps beyond the mid of the quote
 * it was planned on (planner.ts planFallback, the audited system's 15 bps bound): a buy at most that far above, a sell
 * at most that far below. The planner works the bound in binary floating point and snaps toward the mid, so only its
 * rounding error is allowed on top.
 */
function fallbackWithinBound(d: Decision, order: Order, boundBps: number): void {
  const quote = d.state.market.venues.paper.quotes[order.symbol];
  check(quote !== undefined && order.price !== null && order.timeInForce === 'IOC', `fallback ${order.clientOrderId} planned without a quote, a price or IOC`);
  const mid = ((quote?.bid ?? 0) + (quote?.ask ?? 0)) / 2;
  const price = Number(order.price);
  const beyondBps = ((order.side === 'BUY' ? price - mid : mid - price) / mid) * 10_000;
  check(
    beyondBps <= boundBps + fallbackRoundingBps,
    `fallback ${order.clientOrderId} ${order.side} at ${order.price} is ${beyondBps.toFixed(3)} bps beyond the mid ${mid}, over ${boundBps}`,
  );
}

/** The floating-point error allowed on the fallback's bound (bps): far below a tick (BTCUSDT's 0.1 at 87 000 is 0.01 bps). */
const fallbackRoundingBps = 1e-6;

/**
 * After a beat, no session still trades (active, kill switch off) at or below its stop-loss floor (valued at bid/ask),
 * past its horizon deadline, or holding a position in a symbol whose feed has been silent beyond staleFeedMs: the
 * audited system's bid/ask stop and wall-clock exit, and the flatten on stale data it lacked. The margin allows for a
 * clock that moved while the step was decided and committed (a cluster's worker pausing in its write); single-engine
 * steps see none.
 */
export function killRulesHeld(d: Decision, nowMs: number, config: CoreConfig): void {
  for (const s of d.state.durable.sessions.values()) {
    if (s.status !== 'active' || s.killSwitch.engaged) continue;
    if (s.stopLossPct !== null) {
      const { equityUsd, unpricedSymbols } = valueSession(s, d.state.market);
      const floorUsd = stopLossLevelUsd(s.capitalUsd, s.stopLossPct);
      // A position with no quote (after a restart, before the first tick) cannot be valued: the stale-feed rule covers it.
      if (unpricedSymbols.length === 0)
        check(gt(equityUsd, floorUsd), `${s.userId} still trading at equity ${equityUsd} USD (at bid/ask), at or below its stop-loss floor ${floorUsd}`);
    }
    if (s.horizonDeadlineMs !== null)
      check(nowMs < s.horizonDeadlineMs + killRuleMarginMs, `${s.userId} still trading ${nowMs - s.horizonDeadlineMs} ms after its horizon`);
    for (const [symbol, position] of Object.entries(s.positions)) {
      const heardMs = isZero(position.qty) ? undefined : lastHeardMs(d.state.market.venues, s.mode, symbol);
      if (heardMs !== undefined)
        check(
          nowMs - heardMs <= config.staleFeedMs + killRuleMarginMs,
          `${s.userId} still trading, holding ${symbol} with no market data for ${nowMs - heardMs} ms`,
        );
    }
  }
}

/** How late after a rule's time a beat may still find the session trading (simulated ms). */
const killRuleMarginMs = 10_000;
