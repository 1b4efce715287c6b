import type { AccountMarginState, LeverageBracketInfo, PositionRisk } from '../model/margin.js';
import type { Decimal, Price, Usd } from '../model/decimal.js';
import { abs, cmp, div, gte, isZero, lt, mul, sub, toDecimal } from '../model/decimal.js';
import type { CoreConfig } from './config.js';

// The account preflight's decisions, pure (the shell reads the account and sets leverage and margin type):
//
// * the account must be in one-way position mode and single-asset margin (the engine books one position per
//   symbol, margined in USDT), with the BNB fee discount off (it books fees in USDT): otherwise refused, with the
//   setting to change;
// * exposure N = capital × maxLeverage (the most the session may hold, gross); at exchange leverage L its
//   margin need is N / L, and the account's available USDT must cover it;
// * L must be allowed by the symbol's bracket at notional N;
// * the stop-loss must trigger before liquidation. Before entry the liquidation distance is estimated as if the
//   position were margined by its own initial margin only: a move of 1/L − mmr against it (Binance's isolated
//   formula without the maintenance amount; on a cross account the rest of the wallet only pushes liquidation
//   further away, and leaving out `cum` also errs on the safe side). The stop triggers at a move of
//   stopLossPct / 100 × capital / N. A stop at or beyond liquidation refuses a leverage the user asked for, and
//   lowers the default one to the highest that keeps the stop inside;
// * a held position whose mark lies within liquidationAlertDistanceBps of its liquidation price is alerted and
//   reduced (see liquidationProximity).

/**
 * What the shell's account preflight concluded for a session.start, attached to the command input: started
 * with this leverage (set on the exchange), or refused with the reason.
 */
export type PreflightResult = { ok: true; leverage: number } | { ok: false; reason: string };

export type PreflightPlan = { ok: true; leverage: number; marginNeedUsd: Usd } | { ok: false; reason: string };

export interface PreflightRequest {
  capitalUsd: number;
  stopLossPct: number | null;
  /** The leverage the user asked for; null = the configured default (which the preflight may lower). */
  leverage: number | null;
}

const scale = 12;
const one = toDecimal(1);

/** The band a position of notional `notional` falls in (the last band if beyond every cap). */
function bracketAt(brackets: readonly LeverageBracketInfo[], notional: Decimal): LeverageBracketInfo | undefined {
  return brackets.find((b) => cmp(notional, toDecimal(b.notionalCap)) <= 0) ?? brackets[brackets.length - 1];
}

/** How far the price may move against a position at leverage L before it is liquidated, as a fraction. */
function liquidationFraction(leverage: number, maintMarginRatio: Decimal): Decimal {
  return sub(div(one, toDecimal(leverage), scale, 'floor'), maintMarginRatio);
}

/** The account settings the engine cannot trade under, with the setting to change; null when there is none. */
export function accountModeProblem(account: Pick<AccountMarginState, 'dualSidePosition' | 'multiAssetsMargin' | 'feeBurn'>): string | null {
  if (account.dualSidePosition) {
    return 'the account is in hedge mode (dual-side positions); switch it to one-way mode (POST /fapi/v1/positionSide/dual dualSidePosition=false)';
  }
  if (account.multiAssetsMargin) {
    return 'the account is in multi-assets margin mode; switch it to single-asset mode (POST /fapi/v1/multiAssetsMargin multiAssetsMargin=false)';
  }
  if (account.feeBurn) {
    // Binance then takes each commission in BNB whenever the futures wallet holds some: the engine, which has no BNB
    // price, could not book it, and the session's PnL and stop-loss would leave its fees out (fees.ts).
    return 'the account pays futures fees in BNB (BNB fee discount on); the engine books fees in USDT only: switch it off (POST /fapi/v1/feeBurn feeBurn=false)';
  }
  return null;
}

export function planPreflight(
  req: PreflightRequest,
  account: AccountMarginState,
  symbols: readonly string[],
  config: Pick<CoreConfig, 'maxLeverage' | 'defaultSessionLeverage'>,
): PreflightPlan {
  const modeProblem = accountModeProblem(account);
  if (modeProblem !== null) return { ok: false, reason: modeProblem };
  const exposure = mul(toDecimal(req.capitalUsd), toDecimal(config.maxLeverage));
  // The strictest symbol decides: the highest maintenance rate and the lowest leverage cap at this notional.
  let mmr = toDecimal(0);
  let maxLeverage = Number.POSITIVE_INFINITY;
  for (const symbol of symbols) {
    const band = bracketAt(account.brackets[symbol] ?? [], exposure);
    if (!band) return { ok: false, reason: `the exchange gave no leverage brackets for ${symbol}` };
    const ratio = toDecimal(band.maintMarginRatio);
    if (cmp(ratio, mmr) > 0) mmr = ratio;
    maxLeverage = Math.min(maxLeverage, band.initialLeverage);
  }
  const asked = req.leverage;
  if (asked !== null && asked > maxLeverage) {
    return { ok: false, reason: `leverage ${asked}x is above the exchange's ${maxLeverage}x for a position of ${exposure} USDT` };
  }
  let leverage = Math.min(asked ?? config.defaultSessionLeverage, maxLeverage);
  if (req.stopLossPct !== null) {
    const stopFraction = div(toDecimal(req.stopLossPct), mul(toDecimal(100), toDecimal(config.maxLeverage)), scale, 'ceil');
    const inside = (l: number): boolean => lt(stopFraction, liquidationFraction(l, mmr));
    if (!inside(leverage)) {
      if (asked !== null) {
        return {
          ok: false,
          reason: `the stop-loss (${req.stopLossPct} %) lies beyond the liquidation price at ${asked}x (about ${pct(liquidationFraction(asked, mmr))} % away); lower the leverage or tighten the stop`,
        };
      }
      while (leverage > 1 && !inside(leverage)) leverage -= 1;
      if (!inside(leverage)) return { ok: false, reason: `the stop-loss (${req.stopLossPct} %) lies beyond the liquidation price even at 1x` };
    }
  }
  const marginNeed = div(exposure, toDecimal(leverage), 8, 'ceil') as Usd;
  const available = toDecimal(account.availableBalanceUsd);
  if (lt(available, marginNeed)) {
    return {
      ok: false,
      reason: `the account's available balance (${account.availableBalanceUsd} USDT) is below the session's margin need (${marginNeed} USDT = capital × ${config.maxLeverage} / ${leverage}x)`,
    };
  }
  return { ok: true, leverage, marginNeedUsd: marginNeed };
}

function pct(fraction: Decimal): string {
  return div(mul(fraction, toDecimal(100)), one, 2, 'floor');
}

/**
 * A held position whose mark price lies within `alertDistanceBps` of its liquidation price (a fraction of the
 * mark), or null. A liquidation price of 0 means the position cannot be liquidated.
 */
export function liquidationProximity(risk: PositionRisk, alertDistanceBps: number): { distanceBps: Decimal } | null {
  const liq = toDecimal(risk.liquidationPrice) as Price;
  const mark = toDecimal(risk.markPrice) as Price;
  if (isZero(liq) || isZero(mark) || isZero(toDecimal(risk.positionAmt))) return null;
  const distanceBps = div(mul(abs(sub(mark, liq)), toDecimal(10_000)), mark, 2, 'floor');
  return gte(toDecimal(alertDistanceBps), distanceBps) ? { distanceBps } : null;
}

/** What a session already running asks of its account when the engine boots again (see recheckHeldAccount). */
export interface HeldSessionTerms {
  capitalUsd: number;
  stopLossPct: number | null;
  /** The leverage its start's preflight set; null when none ran (then only the account's modes are checked). */
  leverage: number | null;
  /** Whether it holds any position (its margin is then in use, and the available balance no longer covers it). */
  holdsPosition: boolean;
}

/**
 * The account preflight again, for a session that was running when the engine stopped (issue 10 item 5: "at
 * every boot"). The account may have been changed by hand meanwhile: hedge mode or multi-assets margin make the
 * engine's orders and its booking wrong, so they are problems whatever the session holds. A session holding
 * nothing must still fit its margin need and keep its stop inside liquidation at its leverage, as at its start;
 * one holding positions has its margin in use, so the balance is not compared (the liquidation watch reads its
 * liquidation prices). Returns the problems, each with the setting to change; none = the account is as started.
 */
export function recheckHeldAccount(
  terms: HeldSessionTerms,
  account: AccountMarginState,
  symbols: readonly string[],
  config: Pick<CoreConfig, 'maxLeverage' | 'defaultSessionLeverage'>,
): string[] {
  const modeProblem = accountModeProblem(account);
  if (modeProblem !== null) return [modeProblem];
  if (terms.holdsPosition || terms.leverage === null) return [];
  const plan = planPreflight({ capitalUsd: terms.capitalUsd, stopLossPct: terms.stopLossPct, leverage: terms.leverage }, account, symbols, config);
  return plan.ok ? [] : [plan.reason];
}
