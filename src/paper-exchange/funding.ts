// Funding of perpetual positions, as Binance pays it: at every funding time, each open position pays or
// receives notional × funding rate. A positive rate means longs pay shorts, a negative one shorts pay longs;
// "Funding Amount = Nominal Value of Positions × Funding Rate", only for positions open at the funding time
// (Binance's "Introduction to Binance Futures Funding Rates", summarised at
// https://docs.traderwagon.com/faq/futures-trading-introduction/funding-fee). Binance funds every 8 h; here the
// rate and the interval are settings (CLI flags, the handle's setFunding) so a test can make funding matter.
import { div, formatUnits, mul, neg, round, toDecimal } from '../model/decimal.js';
import type { Decimal } from '../model/decimal.js';
import type { MatchingEngine } from './matching.js';
import type { SymbolMarket } from './price-process.js';

/** Binance's funding interval for most USDⓈ-M perpetuals: 8 h, in ms. */
export const defaultFundingIntervalMs = 8 * 60 * 60 * 1000;
/** Funding amounts are printed at 8 decimals, like every USDT amount on the user stream. */
const fundingAmountScale = 8;
const bpsPerUnit = 10_000;

export interface FundingSettings {
  /** Funding rate per interval, in basis points (1 bps = 0.01 %); 0 = no funding (the default). */
  rateBps: number;
  /** Time between funding times, in ms. */
  intervalMs: number;
}

/** The mark price the simulator funds at: the mid of its synthetic touch, exact. */
export function markPrice(market: SymbolMarket): Decimal {
  const { bidUnits, askUnits } = market.top;
  return div(toDecimal(formatUnits(bidUnits + askUnits, market.rules.priceScale)), toDecimal(2), market.rules.priceScale + 1, 'half-even');
}

/**
 * One funding time: every open position in every symbol pays (long, positive rate) or receives (short)
 * |qty| × mark × rate, rounded to 8 decimals; zero amounts are not booked.
 */
export function payFunding(engine: MatchingEngine, markets: ReadonlyMap<string, SymbolMarket>, rateBps: number, nowMs: number): void {
  if (rateBps === 0) return;
  const rate = div(toDecimal(rateBps), toDecimal(bpsPerUnit), 12, 'half-even');
  for (const [symbol, market] of markets) {
    const mark = markPrice(market);
    for (const { account, qtyUnits } of engine.holders(symbol)) {
      const qty = toDecimal(formatUnits(qtyUnits, market.rules.qtyScale));
      // Signed: a long (qty > 0) at a positive rate pays, so the amount is −qty × mark × rate.
      const amount = round(neg(mul(mul(qty, mark), rate)), fundingAmountScale, 'half-even');
      if (amount === '0') continue;
      engine.bookFunding(account, symbol, amount, nowMs);
    }
  }
}

/** One funding time of one symbol, as GET /fapi/v1/fundingRate lists it. */
export interface FundingRecord {
  symbol: string;
  rateBps: number;
  timeMs: number;
  /** The mark price funded at (decimal string). */
  mark: string;
}

/** Funding times kept per symbol: Binance answers at most 1000 a call (https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Rate-History). */
export const maxFundingRecordsPerSymbol = 1000;

/** The funding times that happened, per symbol, oldest first. */
export class FundingHistory {
  private readonly bySymbol = new Map<string, FundingRecord[]>();

  record(markets: ReadonlyMap<string, SymbolMarket>, rateBps: number, nowMs: number): void {
    for (const [symbol, market] of markets) {
      const list = this.bySymbol.get(symbol) ?? [];
      list.push({ symbol, rateBps, timeMs: nowMs, mark: markPrice(market) });
      if (list.length > maxFundingRecordsPerSymbol) list.shift();
      this.bySymbol.set(symbol, list);
    }
  }

  of(symbol: string): readonly FundingRecord[] {
    return this.bySymbol.get(symbol) ?? [];
  }

  symbols(): string[] {
    return [...this.bySymbol.keys()];
  }
}

/** Runs payFunding every intervalMs while the rate is not zero; settings can change at run time. */
export class FundingClock {
  private timer: NodeJS.Timeout | null = null;
  private current: FundingSettings;
  /** When the current interval grid started (the last restart): funding times are start + k × interval. */
  private startedAtMs = Date.now();

  constructor(
    initial: FundingSettings,
    private readonly pay: (rateBps: number) => void,
  ) {
    this.current = initial;
    this.restart();
  }

  get settings(): FundingSettings {
    return { ...this.current };
  }

  set(next: Partial<FundingSettings>): void {
    const merged = { ...this.current, ...next };
    if (!Number.isFinite(merged.rateBps)) throw new Error(`funding rate must be a finite number of bps, got ${merged.rateBps}`);
    if (!Number.isInteger(merged.intervalMs) || merged.intervalMs <= 0)
      throw new Error(`funding interval must be a positive integer of ms, got ${merged.intervalMs}`);
    this.current = merged;
    this.restart();
  }

  /** The next funding time after `nowMs` on the current grid (premiumIndex, markPrice stream `T`). */
  nextFundingTimeMs(nowMs: number): number {
    const { intervalMs } = this.current;
    return this.startedAtMs + (Math.floor(Math.max(0, nowMs - this.startedAtMs) / intervalMs) + 1) * intervalMs;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private restart(): void {
    this.stop();
    this.startedAtMs = Date.now();
    if (this.current.rateBps === 0) return;
    const rateBps = this.current.rateBps;
    this.timer = setInterval(() => this.pay(rateBps), this.current.intervalMs);
  }
}
