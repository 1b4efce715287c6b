import type { Input } from '../core/decide.js';
import type { Effect } from '../core/outputs.js';
import type { ExchangeAccount } from '../exchange/port.js';

/**
 * Carries out one effect on an exchange account and returns its outcome as the input for decide().
 * Shared by the live executor and the deterministic simulation so both exercise the same mapping.
 * Rejects only where the port does (getPositions); every order call resolves with an outcome.
 */
export async function performEffect(account: ExchangeAccount, effect: Effect): Promise<Input | null> {
  switch (effect.kind) {
    case 'place':
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
    case 'list_stops':
      return { kind: 'stops_listed', userId: effect.userId, stops: await account.listProtectiveStops(effect.symbols) };
  }
}
