import type { Command } from '../contract/commands.js';
import type { DecisionContext } from './context.js';
import { placeOrder, requestCancel } from './orders.js';
import { planFlatten } from './planner.js';
import { backingOff } from './rejections.js';
import type { RouteResult } from './route-signals.js';
import { openOrdersOf } from './state-index.js';
import type { Session } from './state.js';
import { filtersOf } from './venues.js';
import { isZero, zero } from '../model/decimal.js';

// session.exit (`/exit BTCUSDT`, `cli exit --symbol BTCUSDT`): close one symbol of a running session and keep the
// rest trading. It is a stop for one symbol: the open orders on it are cancelled (on the priority lane, as a stop
// cancels) and the position is flattened by the same plan a stop uses (planFlatten: reduce-only MARKET on the
// priority lane), so it can only reduce. The answer is "done" once the flatten is planned; its fill is reported as
// any fill is. The session is not blocked from the symbol afterwards: a later signals.route may enter it again,
// as a freqtrade /forceexit leaves the strategy free to.

type ExitCommand = Extract<Command, { type: 'session.exit' }>;

export function handleExit(ctx: DecisionContext, cmd: ExitCommand, session: Session): RouteResult {
  const { symbol } = cmd;
  if (session.status === 'stopping') return { ok: false, reason: 'the session is already stopping: every symbol is being closed' };
  if (!ctx.config.symbols.includes(symbol)) return { ok: false, reason: `${symbol} is not traded here (traded: ${ctx.config.symbols.join(', ')})` };
  const qty = session.positions[symbol]?.qty ?? zero;
  const open = openOrdersOf(ctx.durable, session.userId).filter((o) => o.symbol === symbol);
  if (isZero(qty) && open.length === 0) return { ok: false, reason: `you hold no ${symbol} position and have no open ${symbol} order` };

  const cancelledOrderIds: string[] = [];
  for (const order of open) {
    if (order.purpose === 'flatten') continue;
    // An order not answered yet cannot be cancelled now: marked, it is cancelled once the exchange reports it (maintainOrders).
    if (order.status === 'pending' || order.status === 'unknown') {
      if (!order.cancelRequested) ctx.emit({ type: 'order.cancel_requested', clientOrderId: order.clientOrderId });
    } else requestCancel(ctx, order, 'priority');
    cancelledOrderIds.push(order.clientOrderId);
  }

  let flattenOrderId = open.find((o) => o.purpose === 'flatten')?.clientOrderId ?? null;
  if (!isZero(qty) && flattenOrderId === null) {
    if (backingOff(ctx.durable, ctx.config, ctx.nowMs, session.userId, symbol, 'flatten', ctx.market.retryAt))
      return { ok: false, reason: `the exchange refused the last order closing ${symbol}; try again in a few seconds` };
    const filters = filtersOf(ctx.market.venues, session.mode, symbol);
    if (!filters) return { ok: false, reason: `no trading rules for ${symbol} yet; try again in a few seconds` };
    const planned = planFlatten(symbol, qty, filters);
    if (planned) flattenOrderId = placeOrder(ctx, session.userId, planned).clientOrderId;
  }
  return { ok: true, answer: { commandType: 'session.exit', status: 'done', result: { symbol, qty, flattenOrderId, cancelledOrderIds } } };
}
