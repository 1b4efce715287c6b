import type { Input } from '../core/decide.js';
import type { Effect } from '../core/outputs.js';
import type { ExchangeAccount } from '../exchange/port.js';
import type { PlaceOutcome } from '../model/orders.js';

/**
 * Carries out one effect on an exchange account and returns its outcome as the input for decide().
 * Shared by the live executor and the deterministic simulation so both exercise the same mapping.
 * Rejects only where the port does (getPositions); every order call resolves with an outcome.
 */
export async function performEffect(account: ExchangeAccount, effect: Effect, nowMs: number): Promise<Input | null> {
  switch (effect.kind) {
    case 'place':
      if (nowMs > effect.notAfterMs) return { kind: 'place_result', clientOrderId: effect.order.clientOrderId, outcome: tooLateToSend(effect, nowMs) };
      return { kind: 'place_result', clientOrderId: effect.order.clientOrderId, outcome: await account.placeOrder(effect.order) };
    case 'cancel':
      return { kind: 'cancel_result', clientOrderId: effect.clientOrderId, outcome: await account.cancelOrder(effect.symbol, effect.clientOrderId) };
    case 'query':
      return { kind: 'query_result', clientOrderId: effect.clientOrderId, outcome: await account.queryOrder(effect.symbol, effect.clientOrderId) };
    case 'reconcile':
      return { kind: 'reconcile', userId: effect.userId, positions: await account.getPositions(), requestedAtMs: effect.requestedAtMs };
    case 'place_stop':
      return {
        kind: 'stop_placed',
        userId: effect.userId,
        symbol: effect.request.symbol,
        clientAlgoId: effect.request.clientAlgoId,
        outcome: await account.placeProtectiveStop(effect.request),
      };
    case 'cancel_stop':
      // Cancelling is best effort: a stop that is still there is found by the next listing and cancelled again.
      await account.cancelProtectiveStop(effect.symbol, effect.clientAlgoId);
      return null;
    case 'read_trades':
      // An account that cannot list its trades (an in-process test fake) books from its pushes alone.
      if (!account.listTrades) return null;
      return {
        kind: 'trades_listed',
        userId: effect.userId,
        symbol: effect.symbol,
        trades: await account.listTrades(effect.symbol, effect.from),
        askedAtMs: effect.askedAtMs,
      };
    case 'read_income':
      // An account that cannot list its income (an in-process test fake) books no funding.
      if (!account.listIncome) return null;
      return {
        kind: 'income_listed',
        userId: effect.userId,
        incomeType: effect.incomeType,
        read: await account.listIncome(effect.incomeType, effect.startTimeMs),
        askedAtMs: effect.askedAtMs,
      };
    case 'list_stops':
      return { kind: 'stops_listed', userId: effect.userId, stops: await account.listProtectiveStops(effect.symbols), askedAtMs: effect.askedAtMs };
    case 'read_trade_origin': {
      if (!account.queryOrderByExchangeId) return null;
      const outcome = await account.queryOrderByExchangeId(effect.symbol, effect.exchangeOrderId);
      // Not known (lost, refused): the trade stays booked as it is, with its alert; nothing to decide.
      if (outcome.kind === 'unknown') return null;
      return {
        kind: 'trade_origin',
        userId: effect.userId,
        symbol: effect.symbol,
        exchangeOrderId: effect.exchangeOrderId,
        clientOrderId: outcome.kind === 'found' ? outcome.order.clientOrderId : null,
        realizedPnlUsd: effect.realizedPnlUsd,
      };
    }
  }
}

/** Code of an order the engine refused to send itself (not an exchange code). */
const notSentCode = -1;

/**
 * An order held past its send window (a queue, a rate-limit wait) is not sent: the engine may already have
 * declared it never sent, and a late copy would trade untracked. Reported as rejected, so the core re-plans.
 */
function tooLateToSend(effect: Extract<Effect, { kind: 'place' }>, nowMs: number): PlaceOutcome {
  return { kind: 'rejected', code: notSentCode, message: `not sent: held ${nowMs - effect.notAfterMs} ms past its send window` };
}
