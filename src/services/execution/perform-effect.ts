import type { Input } from '../../core/decide.js';
import type { Effect } from '../../core/outputs.js';
import type { ExchangeAccount } from '../../exchange/port.js';

/**
 * Carries out one effect on an exchange account and returns its outcome as the input for decide().
 * Shared by the live executor and the deterministic simulation so both exercise the same mapping.
 * Rejects only where the port does (getPositions); every order call resolves with an outcome.
 */
export async function performEffect(account: ExchangeAccount, effect: Effect): Promise<Input> {
  switch (effect.kind) {
    case 'place':
      return { kind: 'place_result', clientOrderId: effect.order.clientOrderId, outcome: await account.placeOrder(effect.order) };
    case 'cancel':
      return { kind: 'cancel_result', clientOrderId: effect.clientOrderId, outcome: await account.cancelOrder(effect.symbol, effect.clientOrderId) };
    case 'query':
      return { kind: 'query_result', clientOrderId: effect.clientOrderId, outcome: await account.queryOrder(effect.symbol, effect.clientOrderId) };
    case 'reconcile':
      return { kind: 'reconcile', userId: effect.userId, positions: await account.getPositions() };
  }
}
