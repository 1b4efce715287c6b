// Market streams beyond bookTicker and partial depth (server.ts): the diff depth stream, aggTrade and trade from the
// tape, markPrice (3 s and @1s) and miniTicker. Called once per book change; builds only what a client subscribed to.
import { formatUnits } from '../model/decimal.js';
import type { MarketTape } from './market-tape.js';
import { minuteMs } from './market-tape.js';
import { aggTradeEvent, markPriceEvent, miniTickerEvent, ticker24hJson, tradeEvent } from './market-wire.js';
import type { SymbolMarket } from './price-process.js';
import type { FundingView } from './routes-history.js';
import type { WsHub } from './ws-streams.js';

/**
 * Push periods (ms) of the periodic streams: markPrice every 3 s, markPrice@1s every second
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Mark-Price-Stream);
 * miniTicker every 500 ms (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Individual-Symbol-Mini-Ticker-Stream);
 * the diff depth stream `<symbol>@depth` every 250 ms, `@depth@500ms` and `@depth@100ms` at theirs
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-market-streams/Diff-Book-Depth-Streams).
 * Here no faster than the price step: a book that did not change has nothing to push.
 */
const periodicStreams: readonly { suffix: string; periodMs: number }[] = [
  { suffix: 'markPrice', periodMs: 3_000 },
  { suffix: 'markPrice@1s', periodMs: 1_000 },
  { suffix: 'miniTicker', periodMs: 500 },
  { suffix: 'depth', periodMs: 250 },
  { suffix: 'depth@500ms', periodMs: 500 },
  { suffix: 'depth@100ms', periodMs: 100 },
];

type Levels = Map<string, string>; // price text -> qty text

export class MarketStreams {
  private readonly lastSentMs = new Map<string, number>();
  /** Per diff stream: the levels and update id it last pushed (a diff is against what that stream's readers hold). */
  private readonly depthSent = new Map<string, { updateId: number; bids: Levels; asks: Levels }>();

  constructor(
    private readonly hub: WsHub,
    private readonly tape: MarketTape,
    private readonly funding: FundingView,
  ) {}

  onBookChange(market: SymbolMarket, nowMs: number): void {
    const name = market.rules.symbol.toLowerCase();
    const rules = market.rules;
    const trades = this.tape.record(market, nowMs);
    for (const t of trades) {
      if (this.hub.wants(`${name}@aggTrade`)) this.hub.publishMarket(`${name}@aggTrade`, aggTradeEvent(t, rules, nowMs));
      if (this.hub.wants(`${name}@trade`)) this.hub.publishMarket(`${name}@trade`, tradeEvent(t, rules, nowMs));
    }
    for (const { suffix, periodMs } of periodicStreams) {
      const stream = `${name}@${suffix}`;
      if (!this.hub.wants(stream)) continue;
      if (nowMs - (this.lastSentMs.get(stream) ?? 0) < periodMs) continue;
      this.lastSentMs.set(stream, nowMs);
      this.hub.publishMarket(stream, this.event(suffix, stream, market, nowMs));
    }
  }

  private event(suffix: string, stream: string, market: SymbolMarket, nowMs: number): Record<string, unknown> {
    if (suffix.startsWith('markPrice')) {
      return markPriceEvent(market, this.funding.settings().rateBps, this.funding.nextFundingTimeMs(nowMs), nowMs);
    }
    if (suffix === 'miniTicker') {
      const symbol = market.rules.symbol;
      const first = this.tape.trades(symbol).find((t) => t.timeMs >= nowMs - 24 * 60 * minuteMs);
      const day = ticker24hJson({ r: market.rules, day: this.tape.day(symbol, nowMs), last: this.tape.trades(symbol).at(-1), first, market, nowMs });
      return miniTickerEvent(day, nowMs);
    }
    return this.depthDiff(stream, market, nowMs);
  }

  /** `<symbol>@depth`: levels that changed since this stream's last push, qty "0" for a level that went away. */
  private depthDiff(stream: string, market: SymbolMarket, nowMs: number): Record<string, unknown> {
    const r = market.rules;
    const now = (side: 'bids' | 'asks'): Levels =>
      new Map(market.depth.levelsOf(side, Number.MAX_SAFE_INTEGER).map((l) => [formatUnits(l.priceUnits, r.priceScale), formatUnits(l.qtyUnits, r.qtyScale)]));
    const bids = now('bids');
    const asks = now('asks');
    const before = this.depthSent.get(stream);
    const changes = (was: Levels | undefined, is: Levels): [string, string][] => {
      const out: [string, string][] = [];
      for (const [price, qty] of is) if (was?.get(price) !== qty) out.push([price, qty]);
      for (const price of was?.keys() ?? []) if (!is.has(price)) out.push([price, formatUnits(0n, r.qtyScale)]);
      return out;
    };
    const updateId = market.top.updateId;
    const previous = before?.updateId ?? updateId - 1;
    this.depthSent.set(stream, { updateId, bids, asks });
    return {
      e: 'depthUpdate',
      E: nowMs,
      T: market.top.timeMs,
      s: r.symbol,
      U: previous + 1,
      u: updateId,
      pu: previous,
      b: changes(before?.bids, bids),
      a: changes(before?.asks, asks),
    };
  }
}
