// The API key's own restrictions, as Binance reports them on the spot host (the paper exchange serves them on its
// one port): GET /sapi/v1/account/apiRestrictions, weight 1, SIGNED
// (https://developers.binance.com/docs/wallet/account/api-key-permission). A fresh key here is what a careful user
// creates: reading and futures trading on, withdrawals and transfers off, restricted to an IP. The control route
// POST /sim/v1/apiRestrictions?apiKey=K&enableWithdrawals=true&enableFutures=false… changes one key's flags at run
// time, so a test can present a misconfigured account.
import { apiErrors } from './errors.js';
import { required } from './order-validation.js';
import type { Route } from './rest-routes.js';

const restrictionFlags = [
  'ipRestrict',
  'enableReading',
  'enableFutures',
  'enableWithdrawals',
  'enableInternalTransfer',
  'permitsUniversalTransfer',
  'enableMargin',
  'enableSpotAndMarginTrading',
  'enableVanillaOptions',
  'enablePortfolioMarginTrading',
] as const;
type RestrictionFlag = (typeof restrictionFlags)[number];

const wellConfigured: Readonly<Record<RestrictionFlag, boolean>> = {
  ipRestrict: true,
  enableReading: true,
  enableFutures: true,
  enableWithdrawals: false,
  enableInternalTransfer: false,
  permitsUniversalTransfer: false,
  enableMargin: false,
  enableSpotAndMarginTrading: false,
  enableVanillaOptions: false,
  enablePortfolioMarginTrading: false,
};

/** The key's creation time as reported (a fixed instant: nothing here depends on it). */
const fixedCreateTimeMs = 1_700_000_000_000;

export function apiKeyRoutes(): [string, Route][] {
  // Keys whose flags differ from a fresh key's; every other key the simulator accepts answers with the defaults.
  const overrides = new Map<string, Partial<Record<RestrictionFlag, boolean>>>();
  const restrictionsOf = (apiKey: string): Record<string, unknown> => ({
    ...wellConfigured,
    ...overrides.get(apiKey),
    createTime: fixedCreateTimeMs,
    tradingAuthorityExpirationTime: 0,
  });
  return [
    ['GET /sapi/v1/account/apiRestrictions', { security: 'SIGNED', weight: () => 1, handle: (ctx) => ({ body: restrictionsOf(ctx.accountKey) }) }],
    [
      'POST /sim/v1/apiRestrictions',
      {
        security: 'NONE',
        weight: () => 1,
        handle: (ctx) => {
          const apiKey = required(ctx.params, 'apiKey');
          const changed = { ...overrides.get(apiKey) };
          for (const flag of restrictionFlags) {
            const text = ctx.params.get(flag);
            if (text === undefined) continue;
            if (text !== 'true' && text !== 'false') throw apiErrors.badParamValue(flag);
            changed[flag] = text === 'true';
          }
          overrides.set(apiKey, changed);
          return { body: restrictionsOf(apiKey) };
        },
      },
    ],
  ];
}
