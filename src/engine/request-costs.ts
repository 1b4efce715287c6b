import type { Effect } from '../core/outputs.js';
import type { RequestCost } from '../exchange/rate-budget.js';

// What each effect costs against Binance's limits, as documented (USDⓈ-M futures, REST "Request Weight"):
// the IP weight per minute, and the orders it counts against the account's 10 s / 1 min order limits.
export const requestWeights = {
  /** POST /fapi/v1/order: 0 on the IP limit, 1 on each order-count limit (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Order). */
  placeOrder: 0,
  /** POST /fapi/v1/algoOrder: 0 on the IP limit, 1 on each order-count limit (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Algo-Order). */
  placeAlgoOrder: 0,
  /** DELETE /fapi/v1/order (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Cancel-Order). */
  cancelOrder: 1,
  /** GET /fapi/v1/order (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Order). */
  queryOrder: 1,
  /** DELETE /fapi/v1/algoOrder (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Cancel-Algo-Order). */
  cancelAlgoOrder: 1,
  /** GET /fapi/v1/openAlgoOrders with a symbol; 40 without (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Current-All-Algo-Open-Orders). */
  openAlgoOrdersOfSymbol: 1,
  openAlgoOrdersAllSymbols: 40,
  /** GET /fapi/v1/openOrders with a symbol; 40 without (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Current-All-Open-Orders). */
  openOrdersOfSymbol: 1,
  /** GET /fapi/v1/openOrders without a symbol (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Current-All-Open-Orders). */
  openOrdersAllSymbols: 40,
  /** GET /fapi/v3/positionRisk, 5 with or without a symbol (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Position-Information-V3). */
  positionRisk: 5,
  /** GET /fapi/v1/userTrades (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Account-Trade-List). */
  userTrades: 5,
  /** GET /fapi/v1/income (https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Income-History). */
  incomeHistory: 30,
} as const;

export function requestCostOf(effect: Effect, account: string): RequestCost {
  switch (effect.kind) {
    case 'place':
      return { weight: requestWeights.placeOrder, orders: 1, account };
    case 'place_stop':
      return { weight: requestWeights.placeAlgoOrder, orders: 1, account };
    case 'cancel':
      return { weight: requestWeights.cancelOrder, orders: 0, account };
    case 'query':
    case 'read_trade_origin':
      return { weight: requestWeights.queryOrder, orders: 0, account };
    case 'cancel_stop':
      return { weight: requestWeights.cancelAlgoOrder, orders: 0, account };
    case 'list_stops':
      return {
        weight: effect.symbols ? effect.symbols.length * requestWeights.openAlgoOrdersOfSymbol : requestWeights.openAlgoOrdersAllSymbols,
        orders: 0,
        account,
      };
    case 'reconcile':
      return { weight: requestWeights.positionRisk, orders: 0, account };
    case 'read_trades':
      return { weight: requestWeights.userTrades, orders: 0, account };
    case 'read_income':
      return { weight: requestWeights.incomeHistory, orders: 0, account };
  }
}
