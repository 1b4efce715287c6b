// Account configuration endpoints: position mode, multi-assets mode, leverage, margin type, brackets,
// commission rates and symbol configuration (margin.ts holds the model behind them). Weights as Binance
// documents them (https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api,
// https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api).
import { apiErrors } from './errors.js';
import type { MarginBook } from './margin.js';
import { makerFeeRate, takerFeeRate } from './matching.js';
import { required } from './order-validation.js';
import type { SymbolMarket } from './price-process.js';
import type { Route } from './rest-routes.js';

const fixed = (w: number) => (): number => w;
const success = { code: 200, msg: 'success' };

export function accountConfigRoutes(margin: MarginBook, markets: ReadonlyMap<string, SymbolMarket>): [string, Route][] {
  const symbolOf = (params: ReadonlyMap<string, string>): string => {
    const symbol = required(params, 'symbol').toUpperCase();
    if (!markets.has(symbol)) throw apiErrors.badSymbol();
    return symbol;
  };
  const symbolsOf = (params: ReadonlyMap<string, string>): string[] => (params.has('symbol') ? [symbolOf(params)] : [...markets.keys()]);
  const symbolConfig = (accountKey: string, symbol: string): Record<string, unknown> => ({
    symbol,
    marginType: margin.marginTypeOf(accountKey, symbol),
    isAutoAddMargin: 'false',
    leverage: margin.leverageOf(accountKey, symbol),
    maxNotionalValue: String(margin.maxNotional(accountKey, symbol)),
  });

  return [
    [
      'GET /fapi/v1/positionSide/dual',
      { security: 'SIGNED', weight: fixed(30), handle: (ctx) => ({ body: { dualSidePosition: margin.dualSidePosition(ctx.accountKey) } }) },
    ],
    [
      'POST /fapi/v1/positionSide/dual',
      {
        security: 'SIGNED',
        weight: fixed(1),
        handle: (ctx) => {
          margin.setDualSidePosition(ctx.accountKey, required(ctx.params, 'dualSidePosition'));
          return { body: success };
        },
      },
    ],
    [
      'GET /fapi/v1/multiAssetsMargin',
      { security: 'SIGNED', weight: fixed(30), handle: (ctx) => ({ body: { multiAssetsMargin: margin.multiAssetsMargin(ctx.accountKey) } }) },
    ],
    [
      'POST /fapi/v1/multiAssetsMargin',
      {
        security: 'SIGNED',
        weight: fixed(1),
        handle: (ctx) => {
          margin.setMultiAssetsMargin(ctx.accountKey, required(ctx.params, 'multiAssetsMargin'));
          return { body: success };
        },
      },
    ],
    // BNB fee discount: GET weighs 30, POST 1
    // (https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-BNB-Burn-Status,
    // https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Toggle-BNB-Burn-On-Futures-Trade).
    ['GET /fapi/v1/feeBurn', { security: 'SIGNED', weight: fixed(30), handle: (ctx) => ({ body: { feeBurn: margin.feeBurn(ctx.accountKey) } }) }],
    [
      'POST /fapi/v1/feeBurn',
      {
        security: 'SIGNED',
        weight: fixed(1),
        handle: (ctx) => {
          margin.setFeeBurn(ctx.accountKey, required(ctx.params, 'feeBurn'));
          return { body: success };
        },
      },
    ],
    [
      'POST /fapi/v1/leverage',
      {
        security: 'SIGNED',
        weight: fixed(1),
        handle: (ctx) => {
          const symbol = symbolOf(ctx.params);
          const leverage = margin.setLeverage(ctx.accountKey, symbol, required(ctx.params, 'leverage'));
          return { body: { leverage, maxNotionalValue: String(margin.maxNotional(ctx.accountKey, symbol)), symbol } };
        },
      },
    ],
    [
      'POST /fapi/v1/marginType',
      {
        security: 'SIGNED',
        weight: fixed(1),
        handle: (ctx) => {
          margin.setMarginType(ctx.accountKey, symbolOf(ctx.params), required(ctx.params, 'marginType').toUpperCase());
          return { body: success };
        },
      },
    ],
    [
      'GET /fapi/v1/leverageBracket',
      {
        security: 'SIGNED',
        weight: fixed(1),
        // With a symbol Binance answers one object, without one a list.
        handle: (ctx) => ({
          body: ctx.params.has('symbol') ? margin.bracketJson(symbolOf(ctx.params)) : symbolsOf(ctx.params).map((s) => margin.bracketJson(s)),
        }),
      },
    ],
    [
      'GET /fapi/v1/commissionRate',
      {
        security: 'SIGNED',
        weight: fixed(20),
        handle: (ctx) => ({
          body: {
            symbol: symbolOf(ctx.params),
            makerCommissionRate: String(makerFeeRate),
            takerCommissionRate: String(takerFeeRate),
            // The rate of RPI (Retail Price Improvement) orders, which the paper exchange does not take: the maker rate stands in.
            rpiCommissionRate: String(makerFeeRate),
          },
        }),
      },
    ],
    [
      'GET /fapi/v1/symbolConfig',
      { security: 'SIGNED', weight: fixed(5), handle: (ctx) => ({ body: symbolsOf(ctx.params).map((s) => symbolConfig(ctx.accountKey, s)) }) },
    ],
  ];
}
