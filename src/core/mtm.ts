import type { Exact, Price, Qty, Usd } from '../model/decimal.js';
import {
  add,
  decimalOf,
  exactAbs,
  exactAdd,
  exactMul,
  exactOf,
  decimalAndExactOfNumber,
  exactSign,
  exactSub,
  isZero,
  lte,
  movePoint,
  mul,
  sign,
  sub,
  toDecimal,
  toNumber,
  toPrice,
} from '../model/decimal.js';
import type { MarketState, Position, Session } from './state.js';
import { quoteOf } from './venues.js';

// Conservative mark-to-market: a long can only be sold at the bid, a short only bought back at the ask.
// Valuing at mid or last trade would show profit that a wide or illiquid book cannot pay.
// Exact: quotes arrive as numbers whose shortest form is the exchange's decimal, read here as a Price; equity,
// PnL and exposure are exact decimal sums, so the stop-loss comparison has no float edge.

export interface Valuation {
  equityUsd: Usd;
  unrealizedPnlUsd: Usd;
  /** Symbols held for which there is no quote: equity is incomplete and the feed rule must act. */
  unpricedSymbols: string[];
  grossExposureUsd: Usd;
}

export interface PositionValue {
  /** Where the position could be closed now: the bid for a long, the ask for a short. */
  exitPrice: Price;
  unrealizedPnlUsd: Usd;
  notionalUsd: Usd;
}

/** One position at its conservative exit price; null without a quote. */
export function valuePosition(position: Position, quote: { bid: number; ask: number } | undefined): PositionValue | null {
  const exact = valuePositionExact(position, quote);
  return exact && { exitPrice: exact.exitPrice, unrealizedPnlUsd: decimalOf(exact.unrealized) as Usd, notionalUsd: decimalOf(exact.notional) as Usd };
}

/** A position's value, exact: where it could be closed now (as a price and as the quote's number) and what that makes. */
export interface ExactPositionValue {
  exitPrice: Price;
  /** The quote's number the exit price was read from (toNumber(exitPrice), without reading the text back). */
  exitNumber: number;
  unrealized: Exact;
  notional: Exact;
}

/** valuePosition's figures as exact values (a valuation sums them before writing any as a string). */
function valuePositionExact(position: Position, quote: { bid: number; ask: number } | undefined): ExactPositionValue | null {
  if (!quote) return null;
  const qty = exactOf(position.qty);
  const exitNumber = exactSign(qty) > 0 ? quote.bid : quote.ask;
  const { decimal, exact: exit } = decimalAndExactOfNumber(exitNumber);
  return {
    exitPrice: decimal as Price,
    exitNumber,
    unrealized: exactMul(qty, exactSub(exit, exactOf(position.entryPrice))),
    notional: exactMul(exactAbs(qty), exit),
  };
}

/**
 * What the session has booked, signed: realized PnL − commission + funding (received positive). Equity is
 * capital + this + unrealized at bid/ask; the stop-loss and the protective stops' loss budget use it.
 */
export function bookedPnlUsd(session: Session): Usd {
  return add(sub(session.realizedPnlUsd, session.feesUsd), session.fundingUsd);
}

/**
 * capital + booked PnL per (immutable) session object: the part of equity no quote moves, worked out once rather
 * than on every valuation of an unchanged session (each equity sample, each stop-loss text).
 */
const bookedEquityMemo = new WeakMap<Session, Usd>();

function bookedEquityUsd(session: Session): Usd {
  let known = bookedEquityMemo.get(session);
  if (known === undefined) {
    known = add(session.capitalUsd, bookedPnlUsd(session));
    bookedEquityMemo.set(session, known);
  }
  return known;
}

/** A held position of a valuation: its value, exact (null: no quote for its symbol). */
export interface HeldValue {
  symbol: string;
  position: Position;
  value: ExactPositionValue | null;
}

/**
 * A session valued exactly, with each held position's value, none of it written as a string: a summary shows the
 * figures as numbers (numberOfExact), and writing each as a decimal only to read it back as a number was most of
 * an equity sample's cost.
 */
export interface ExactValuation {
  equity: Exact;
  unrealized: Exact;
  gross: Exact;
  /** Symbols held for which there is no quote. */
  unpricedSymbols: string[];
  /** The held positions (qty not zero), in the session's order. */
  held: HeldValue[];
}

/** Exact zero, the sums' start (exact values are never written to: each operation makes a new one). */
const exactZero: Exact = Object.freeze({ units: 0n, scale: 0 });

export function valueSessionExact(session: Session, market: MarketState): ExactValuation {
  // Summed exactly as parsed values: the same decimals as adding the strings one by one.
  let unrealized = exactZero;
  let gross = exactZero;
  const unpricedSymbols: string[] = [];
  const held: HeldValue[] = [];
  // A loop over the keys, not Object.entries: an array of pairs per equity sample for one or two positions.
  const positions = session.positions;
  for (const symbol in positions) {
    const position = positions[symbol];
    if (position === undefined || !Object.hasOwn(positions, symbol) || isZero(position.qty)) continue;
    const value = valuePositionExact(position, quoteOf(market.venues, session.mode, symbol));
    held.push({ symbol, position, value });
    if (!value) {
      unpricedSymbols.push(symbol);
      continue;
    }
    // The first held position's values are the sums so far (zero at scale 0 adds nothing, and never a finer scale).
    unrealized = unrealized === exactZero ? value.unrealized : exactAdd(unrealized, value.unrealized);
    gross = gross === exactZero ? value.notional : exactAdd(gross, value.notional);
  }
  return { equity: exactAdd(exactOf(bookedEquityUsd(session)), unrealized), unrealized, gross, unpricedSymbols, held };
}

export function valueSession(session: Session, market: MarketState): Valuation {
  const { equity, unrealized, unpricedSymbols, gross } = valueSessionExact(session, market);
  return { equityUsd: decimalOf(equity) as Usd, unrealizedPnlUsd: decimalOf(unrealized) as Usd, unpricedSymbols, grossExposureUsd: decimalOf(gross) as Usd };
}

/** Integers of at most this magnitude are exact as doubles (2^53). */
const maxExactDoubleUnits = 2n ** 53n;
/** 10^0 .. 10^22, each exact as a double (10^22 = 2^22 · 5^22, and 5^22 < 2^53); read from their decimal text. */
const exactPowersOfTen: readonly number[] = Array.from({ length: 23 }, (_, n) => Number(`1e${n}`));

/**
 * toNumber(decimalOf(x)) without writing the decimal: Number() of a decimal text is its value correctly rounded, and
 * so is one IEEE division of two doubles that hold units and 10^scale exactly — the same double. Outside that range
 * (more than 53 bits of units, or scale above 22) it goes through the text.
 */
export function numberOfExact(x: Exact): number {
  if (x.scale >= 0 && x.scale < exactPowersOfTen.length && x.units <= maxExactDoubleUnits && x.units >= -maxExactDoubleUnits) {
    return Number(x.units) / (exactPowersOfTen[x.scale] as number);
  }
  return toNumber(decimalOf(x));
}

/** The equity at or below which the stop-loss fires: capital × (1 − pct/100), exact. */
export function stopLossLevelUsd(capitalUsd: Usd, stopLossPct: number): Usd {
  return mul(capitalUsd, sub(toDecimal(1), movePoint(toDecimal(stopLossPct), -2))) as Usd;
}

/**
 * A session holding one position, reduced to what a quote changes: equity ≤ level ⇔ qty × exit ≤ `limitUsd`
 * (= level − capital − booked + qty × entry), i.e. exit ≤ limit/qty for a long, ≥ for a short (`boundPrice`, a float
 * used only to skip the exact test when the exit is clearly on one side). Per (immutable) session object.
 */
interface OnePositionTest {
  symbol: string;
  qty: Qty;
  limitUsd: Usd;
  long: boolean;
  boundPrice: number;
}

const onePositionTests = new WeakMap<Session, OnePositionTest | null>();

/**
 * What a session's stop-loss figures are made of besides its positions: the stop-loss, the capital and the booked
 * PnL's parts. A session event that leaves the positions alone (a setting, an intent, a status) makes a new session
 * object sharing the positions record (copySession); with these equal too, anything worked out from the positions
 * and these (the one-position test here, the protective stop's trigger) is the same, and need not be worked out
 * again in exact decimals (~9 µs of a ~40 µs command for the test alone).
 */
export interface StopFigures {
  stopLossPct: number | null;
  capitalUsd: Usd;
  realizedPnlUsd: Usd;
  feesUsd: Usd;
  fundingUsd: Usd;
}

export function stopFiguresOf(session: Session): StopFigures {
  const { stopLossPct, capitalUsd, realizedPnlUsd, feesUsd, fundingUsd } = session;
  return { stopLossPct, capitalUsd, realizedPnlUsd, feesUsd, fundingUsd };
}

export function sameStopFigures(figures: StopFigures, session: Session): boolean {
  return (
    figures.stopLossPct === session.stopLossPct &&
    figures.capitalUsd === session.capitalUsd &&
    figures.realizedPnlUsd === session.realizedPnlUsd &&
    figures.feesUsd === session.feesUsd &&
    figures.fundingUsd === session.fundingUsd
  );
}

/** The test per positions record, with the figures it was made from (StopFigures). */
const testsByPositions = new WeakMap<Session['positions'], { figures: StopFigures; test: OnePositionTest | null }>();

/** `session.stopLossPct`, not null (the callers' guard). */
function onePositionTest(session: Session, stopLossPct: number): OnePositionTest | null {
  if (onePositionTests.has(session)) return onePositionTests.get(session) ?? null;
  const known = testsByPositions.get(session.positions);
  const reusable = known !== undefined && sameStopFigures(known.figures, session);
  const test = reusable ? known.test : computeOnePositionTest(session, stopLossPct);
  onePositionTests.set(session, test);
  if (!reusable) testsByPositions.set(session.positions, { figures: stopFiguresOf(session), test });
  return test;
}

function computeOnePositionTest(session: Session, stopLossPct: number): OnePositionTest | null {
  const held = Object.entries(session.positions).filter(([, p]) => !isZero(p.qty));
  let test: OnePositionTest | null = null;
  const only = held.length === 1 ? held[0] : undefined;
  if (only) {
    const [symbol, position] = only;
    const limitUsd = add(
      sub(stopLossLevelUsd(session.capitalUsd, stopLossPct), add(session.capitalUsd, bookedPnlUsd(session))),
      mul(position.qty, position.entryPrice) as Usd,
    );
    test = { symbol, qty: position.qty, limitUsd, long: sign(position.qty) > 0, boundPrice: toNumber(limitUsd) / toNumber(position.qty) };
  }
  return test;
}

/**
 * The float bound a quote is compared with for a session holding one position under a stop-loss (tick-watch.ts):
 * breached-or-too-close when the exit (bid for a long, ask for a short) is not clearly beyond it. Null when the
 * session has no stop-loss or is not valued from one position.
 */
export function stopLossBoundOf(session: Session): { symbol: string; long: boolean; price: number } | null {
  if (session.stopLossPct === null) return null;
  const test = onePositionTest(session, session.stopLossPct);
  return test ? { symbol: test.symbol, long: test.long, price: test.boundPrice } : null;
}

/** Relative distance beyond which two finite floats of decimals compare as the decimals do (far above rounding). */
const floatCompareMargin = 1e-9;

/** -1/1 when float `a` is clearly below/above float `b`, 0 when too close to tell without exact decimals. */
function clearSide(a: number, b: number): -1 | 0 | 1 {
  const tolerance = floatCompareMargin * Math.max(Math.abs(a), Math.abs(b));
  if (!Number.isFinite(a) || !Number.isFinite(b)) return 0;
  return a - b > tolerance ? 1 : b - a > tolerance ? -1 : 0;
}

/** True when equity at conservative marks is at or below the stop level. */
export function stopLossBreached(session: Session, market: MarketState): boolean {
  if (session.stopLossPct === null) return false;
  const test = onePositionTest(session, session.stopLossPct);
  if (test) {
    // The common case, on every tick for every holder: one float comparison, exact only near the bound.
    const quote = quoteOf(market.venues, session.mode, test.symbol);
    if (!quote) return false; // the stale-feed rule covers missing quotes
    const exit = test.long ? quote.bid : quote.ask;
    const side = clearSide(exit, test.boundPrice);
    if (side !== 0) return test.long ? side < 0 : side > 0;
    return lte(mul(test.qty, toPrice(exit)), test.limitUsd);
  }
  const { equityUsd, unpricedSymbols } = valueSession(session, market);
  if (unpricedSymbols.length > 0) return false; // the stale-feed rule covers missing quotes
  return lte(equityUsd, stopLossLevelUsd(session.capitalUsd, session.stopLossPct));
}
