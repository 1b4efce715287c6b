import { describe, expect, it } from 'vitest';
import { defaultCoreConfig } from '../../src/core/config.js';
import { liquidationProximity, planPreflight, recheckHeldAccount } from '../../src/core/preflight.js';
import type { AccountMarginState, LeverageBracketInfo } from '../../src/model/margin.js';
import { CoreDriver, replies, withConfig } from './fixtures.js';

// The account preflight's decisions (src/core/preflight.ts) and how session.start uses its verdict.

const btcBrackets: LeverageBracketInfo[] = [
  { initialLeverage: 125, notionalFloor: '0', notionalCap: '50000', maintMarginRatio: '0.004', cum: '0' },
  { initialLeverage: 100, notionalFloor: '50000', notionalCap: '250000', maintMarginRatio: '0.005', cum: '50' },
  { initialLeverage: 50, notionalFloor: '250000', notionalCap: '1000000', maintMarginRatio: '0.01', cum: '1300' },
  { initialLeverage: 20, notionalFloor: '1000000', notionalCap: '10000000', maintMarginRatio: '0.025', cum: '16300' },
];
const account = (over: Partial<AccountMarginState> = {}): AccountMarginState => ({
  dualSidePosition: false,
  multiAssetsMargin: false,
  feeBurn: false,
  availableBalanceUsd: '100000',
  brackets: { BTCUSDT: btcBrackets },
  positions: [],
  ...over,
});
const config = { maxLeverage: 1, defaultSessionLeverage: 5 };
const plan = (req: Partial<Parameters<typeof planPreflight>[0]>, acct = account()) =>
  planPreflight({ capitalUsd: 10_000, stopLossPct: null, leverage: null, ...req }, acct, ['BTCUSDT'], config);

describe('recheckHeldAccount (the preflight again at boot)', () => {
  const terms = { capitalUsd: 10_000, stopLossPct: null, leverage: 5, holdsPosition: false };
  const recheck = (over: Partial<typeof terms>, acct = account()) => recheckHeldAccount({ ...terms, ...over }, acct, ['BTCUSDT'], config);

  it('finds a changed position or margin mode whatever the session holds', () => {
    expect(recheck({ holdsPosition: true }, account({ dualSidePosition: true }))).toEqual([expect.stringMatching(/hedge mode.*one-way/)]);
    expect(recheck({}, account({ multiAssetsMargin: true }))).toEqual([expect.stringMatching(/multi-assets/)]);
    expect(recheck({ holdsPosition: true }, account({ feeBurn: true }))).toEqual([expect.stringMatching(/fees in BNB.*feeBurn=false/)]);
  });

  it('compares the margin need with the balance only for a session holding nothing (a holder has its margin in use)', () => {
    const thin = account({ availableBalanceUsd: '100' });
    expect(recheck({}, thin)).toEqual([expect.stringMatching(/available balance \(100 USDT\)/)]);
    expect(recheck({ holdsPosition: true }, thin)).toEqual([]);
    expect(recheck({}, account())).toEqual([]);
  });
});

describe('planPreflight', () => {
  it('refuses hedge mode and multi-assets mode with the setting to change', () => {
    expect(plan({}, account({ dualSidePosition: true }))).toMatchObject({ ok: false, reason: expect.stringMatching(/hedge mode.*one-way/) });
    expect(plan({}, account({ multiAssetsMargin: true }))).toMatchObject({ ok: false, reason: expect.stringMatching(/multi-assets/) });
  });

  it('refuses an account paying fees in BNB: the engine books commissions in USDT only', () => {
    expect(plan({}, account({ feeBurn: true }))).toEqual({
      ok: false,
      reason:
        'the account pays futures fees in BNB (BNB fee discount on); the engine books fees in USDT only: switch it off (POST /fapi/v1/feeBurn feeBurn=false)',
    });
  });

  it('needs capital × maxLeverage / leverage of available balance', () => {
    expect(plan({ leverage: 4 })).toEqual({ ok: true, leverage: 4, marginNeedUsd: '2500' });
    expect(plan({ capitalUsd: 600_000, leverage: 5 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/available balance \(100000 USDT\) is below the session's margin need \(120000 USDT/),
    });
  });

  it('keeps the leverage within the bracket at the session notional', () => {
    expect(plan({ capitalUsd: 2_000_000, leverage: 30 }, account({ availableBalanceUsd: '1000000' }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/above the exchange's 20x/),
    });
  });

  it('refuses an asked leverage whose liquidation lies inside the stop; lowers the default one', () => {
    // 5 % stop; at 20x liquidation is 1/20 − 0.004 = 4.6 % away.
    expect(plan({ stopLossPct: 5, leverage: 20 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/beyond the liquidation price at 20x \(about 4.6 % away\)/),
    });
    expect(plan({ stopLossPct: 5, leverage: 18 })).toMatchObject({ ok: true, leverage: 18 }); // 1/18 − 0.004 ≈ 5.16 %
    expect(plan({ stopLossPct: 30 })).toMatchObject({ ok: true, leverage: 3 });
    expect(plan({ stopLossPct: 99.7 })).toMatchObject({ ok: false, reason: expect.stringMatching(/even at 1x/) });
  });
});

describe('liquidationProximity', () => {
  it('flags a position whose mark is within the distance of its liquidation price', () => {
    expect(liquidationProximity({ symbol: 'BTCUSDT', positionAmt: '1', liquidationPrice: '59500', markPrice: '60000' }, 100)).toEqual({ distanceBps: '83.33' });
    expect(liquidationProximity({ symbol: 'BTCUSDT', positionAmt: '1', liquidationPrice: '50000', markPrice: '60000' }, 100)).toBeNull();
    expect(liquidationProximity({ symbol: 'BTCUSDT', positionAmt: '1', liquidationPrice: '0', markPrice: '60000' }, 100)).toBeNull();
  });
});

describe('session.start with the preflight verdict', () => {
  const live = () => {
    const d = new CoreDriver({ config: withConfig({ liveTradingEnabled: true, liveApprovedUserIds: ['ok'] }) });
    d.liveFeed();
    return d;
  };
  const start = { id: 's', userId: 'ok', type: 'session.start', mode: 'live', capitalUsd: 100 };

  it('refuses a live start no preflight ran for, and one it refused, with its reason', () => {
    expect(replies(live().command(start, 1, '1-1', null))[0]).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/preflight did not run/) });
    const refused = live().command(start, 1, '1-1', { ok: false, reason: 'the account is in hedge mode' });
    expect(replies(refused)[0]).toMatchObject({ status: 'rejected', reason: 'account preflight: the account is in hedge mode' });
  });

  it('records the leverage the preflight set', () => {
    const d = live();
    d.command(start, 1, '1-1', { ok: true, leverage: 7 });
    expect(d.state.durable.sessions.get('ok')?.leverage).toBe(7);
    expect(defaultCoreConfig.liquidationAlertDistanceBps).toBeGreaterThan(0);
  });
});
