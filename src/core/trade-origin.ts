import type { DecisionContext } from './context.js';
import { causeText, forcedCloseCause } from './exchange-fills.js';
import { bookedAsset } from '../model/market.js';
import { engageKillSwitch } from './risk-rules.js';

// A trade learnt from the trade list alone (its push never came: foreign-trades.ts) does not say why it traded: the
// list has no client order id. A close the exchange forced (a liquidation `autoclose-…`, an ADL `adl_autoclose`) must
// engage the kill switch as its push would have (exchange-fills.ts): re-entering after a liquidation the engine did
// not notice is how an account is liquidated twice. So for a trade that realized PnL (it closed something), the
// engine asks the exchange for the order by its id (read_trade_origin) and decides here on its client id.

export function onTradeOrigin(
  ctx: DecisionContext,
  userId: string,
  symbol: string,
  exchangeOrderId: string,
  clientOrderId: string | null,
  realizedPnlUsd: string,
): void {
  const session = ctx.durable.sessions.get(userId);
  if (!session || session.status === 'closed' || clientOrderId === null) return;
  const cause = forcedCloseCause(clientOrderId);
  if (cause === null || session.killSwitch.engaged) return;
  engageKillSwitch(
    ctx,
    userId,
    cause,
    'exchange_close',
    `${causeText[cause]} on ${symbol} (order ${clientOrderId}, exchange id ${exchangeOrderId}), learnt from the trade list: realized ${realizedPnlUsd} ${bookedAsset}; kill switch engaged`,
  );
}
