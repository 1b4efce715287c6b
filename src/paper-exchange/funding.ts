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
function markPrice(market: SymbolMarket): Decimal {
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

/** Runs payFunding every intervalMs while the rate is not zero; settings can change at run time. */
export class FundingClock {
  private timer: NodeJS.Timeout | null = null;
  private current: FundingSettings;

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

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private restart(): void {
    this.stop();
    if (this.current.rateBps === 0) return;
    const rateBps = this.current.rateBps;
    this.timer = setInterval(() => this.pay(rateBps), this.current.intervalMs);
  }
}
