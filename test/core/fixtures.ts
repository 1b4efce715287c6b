import type { PreflightResult } from '../../src/core/preflight.js';
import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Decision, Input } from '../../src/core/decide.js';
import { decide } from '../../src/core/decide.js';
import type { WalEvent } from '../../src/core/events.js';
import { foldEvents } from '../../src/core/events.js';
import type { Effect } from '../../src/core/outputs.js';
import type { OutboundEvent } from '../../src/contract/outbound.js';
import type { DurableState, EngineState, Order } from '../../src/core/state.js';
import { toPrice, toQty, toUsd } from '../../src/model/decimal.js';
import { emptyDurableState, emptyMarketState } from '../../src/core/state.js';
import type { Venue } from '../../src/core/venues.js';
import { allVenues, withQuote as withVenueQuote } from '../../src/core/venues.js';
import type { SymbolFilters } from '../../src/model/market.js';
import type { OrderSnapshot, OrderStatus } from '../../src/model/orders.js';

// Shared helpers for the pure-core tests: filters, a config, a driver that feeds decide() the way the shell
// does (boot, then filters, then inputs on a simulated clock) and builders for states with given positions.

export const T0 = 1_700_000_000_000;

/** An order record as the state holds one (a resting BTCUSDT entry of user u), with `patch` over it. */
export function orderRecordOf(patch: Partial<Order> = {}): Order {
  return {
    clientOrderId: 'o1',
    userId: 'u',
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    quantity: '0.01',
    price: '60000',
    timeInForce: 'GTX',
    reduceOnly: false,
    purpose: 'entry',
    fallbackOf: null,
    status: 'NEW',
    exchangeOrderId: null,
    filledQty: '0',
    avgPrice: '0',
    createdAtMs: T0,
    updatedAtMs: T0,
    cancelRequested: false,
    rejectReason: null,
    ...patch,
  };
}

/** Binance-like filters; override any field. */
export function makeFilters(symbol: string, overrides: Partial<SymbolFilters> = {}): SymbolFilters {
  return {
    symbol,
    status: 'TRADING',
    tickSize: '0.10',
    minPrice: '0.10',
    maxPrice: '1000000',
    stepSize: '0.001',
    minQty: '0.001',
    maxQty: '1000',
    marketStepSize: '0.001',
    marketMinQty: '0.001',
    marketMaxQty: '120',
    minNotional: '100',
    multiplierUp: '1.0500',
    multiplierDown: '0.9500',
    ...overrides,
  };
}

export const btcFilters: SymbolFilters = makeFilters('BTCUSDT');
export const ethFilters: SymbolFilters = makeFilters('ETHUSDT', { tickSize: '0.01', minPrice: '0.01', minNotional: '20', marketMaxQty: '10000' });
export const testFilters: Record<string, SymbolFilters> = { BTCUSDT: btcFilters, ETHUSDT: ethFilters };

export const testConfig: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT', 'ETHUSDT'] };

export function withConfig(overrides: Partial<CoreConfig>): CoreConfig {
  return { ...testConfig, ...overrides };
}

export type PlaceEffect = Extract<Effect, { kind: 'place' }>;
export type Reply = Extract<OutboundEvent, { type: 'reply' }>;

export function placed(d: Pick<Decision, 'effects'>): PlaceEffect[] {
  return d.effects.filter((e): e is PlaceEffect => e.kind === 'place');
}

export function replies(d: Pick<Decision, 'outbound'>): Reply[] {
  return d.outbound.filter((o): o is Reply => o.type === 'reply');
}

export function eventsOf<K extends WalEvent['type']>(events: readonly WalEvent[], type: K): Extract<WalEvent, { type: K }>[] {
  return events.filter((e): e is Extract<WalEvent, { type: K }> => e.type === type);
}

/** What the WAL stores and replays: JSON text. */
export function viaJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** An exchange snapshot of `order` with the given cumulative execution. */
export function snapshotOf(
  order: Pick<Order, 'clientOrderId' | 'symbol' | 'side' | 'quantity'>,
  status: OrderStatus,
  executedQty: string,
  avgPrice: string,
  updateTime = 0,
): OrderSnapshot {
  return {
    clientOrderId: order.clientOrderId,
    exchangeOrderId: `x-${order.clientOrderId}`,
    symbol: order.symbol,
    side: order.side,
    status,
    origQty: order.quantity,
    executedQty,
    avgPrice,
    updateTime,
  };
}

/** Drives decide() like the shell does, keeping every WAL event and decision for inspection. */
export class CoreDriver {
  state: EngineState;
  readonly wal: WalEvent[] = [];
  readonly decisions: Decision[] = [];
  nowMs: number;
  readonly config: CoreConfig;
  private entry = 0;

  constructor(options: { nowMs?: number; config?: CoreConfig; filters?: Record<string, SymbolFilters> } = {}) {
    this.nowMs = options.nowMs ?? T0;
    this.config = options.config ?? testConfig;
    this.state = { durable: emptyDurableState(), market: emptyMarketState(this.nowMs) };
    this.step({ kind: 'boot' });
    this.marketView(options.filters ?? testFilters);
  }

  /** Both venues' filters and feed clocks, as the shell gives them at boot and subscription. */
  private marketView(filters: Record<string, SymbolFilters>): void {
    for (const venue of allVenues) {
      this.step({ kind: 'filters', venue, filters });
      this.step({ kind: 'feed_started', venue, symbols: [...this.config.symbols] });
    }
  }

  step(input: Input): Decision {
    const d = decide(this.state, input, this.nowMs, this.config);
    this.state = d.state;
    this.wal.push(...d.wal);
    this.decisions.push(d);
    return d;
  }

  /** Decides without keeping the result (to compare what an input would do). */
  peek(input: Input): Decision {
    return decide(this.state, input, this.nowMs, this.config);
  }

  nextEntryId(): string {
    this.entry += 1;
    return `${this.nowMs}-${this.entry}`;
  }

  /**
   * A live session.start comes with a passed account preflight (the shell's, src/services/execution/account-preflight.ts)
   * unless `preflight` says otherwise (null: none ran).
   */
  command(body: Record<string, unknown> | string, deliveryCount = 1, entryId = this.nextEntryId(), preflight?: PreflightResult | null): Decision {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const liveStart = typeof body !== 'string' && body.type === 'session.start' && body.mode === 'live';
    const verdict = preflight === undefined ? (liveStart ? { ok: true as const, leverage: 5 } : undefined) : (preflight ?? undefined);
    return this.step(
      verdict
        ? { kind: 'command', delivery: { entryId, raw, deliveryCount }, preflight: verdict }
        : { kind: 'command', delivery: { entryId, raw, deliveryCount } },
    );
  }

  tick(symbol: string, bid: number, ask: number, venue: Venue = 'paper'): Decision {
    return this.step({ kind: 'tick', venue, tick: { symbol, bid, ask, time: this.nowMs } });
  }

  /** A fresh live quote for every configured symbol: a live session may start only on a healthy live feed. */
  liveFeed(bid = 60_000, ask = 60_000.1): void {
    for (const symbol of this.config.symbols) this.tick(symbol, bid, ask, 'live');
  }

  timer(advanceMs = 0): Decision {
    this.nowMs += advanceMs;
    return this.step({ kind: 'timer' });
  }

  order(clientOrderId: string): Order {
    const order = this.state.durable.orders.get(clientOrderId);
    if (!order) throw new Error(`no order ${clientOrderId}`);
    return order;
  }

  /** Reports an order as (partially) filled at `price` through the user-data stream. */
  fill(clientOrderId: string, price: number, status: 'FILLED' | 'PARTIALLY_FILLED' = 'FILLED', executedQty?: string): Decision {
    const order = this.order(clientOrderId);
    return this.step({ kind: 'order_update', order: snapshotOf(order, status, executedQty ?? order.quantity, String(price), this.nowMs) });
  }

  /** Crash and restart: durable state rebuilt from the JSON WAL, market state lost, then boot + filters. */
  restart(filters: Record<string, SymbolFilters> = testFilters): void {
    const durable = foldEvents(emptyDurableState(), viaJson(this.wal), this.config);
    this.state = { durable, market: emptyMarketState(this.nowMs) };
    this.step({ kind: 'boot' });
    this.marketView(filters);
  }
}

export interface PositionSpec {
  symbol: string;
  /** Signed quantity. */
  qty: number;
  entryPrice: number;
}

/**
 * A state with one running session holding the given positions, built only from WAL events (so it is a state
 * the engine can really be in), with the given filters and no quotes.
 */
export function stateWithPositions(opts: {
  userId?: string;
  capitalUsd: number;
  stopLossPct?: number | null;
  horizonDeadlineMs?: number | null;
  positions: PositionSpec[];
  nowMs?: number;
  filters?: Record<string, SymbolFilters>;
  config?: CoreConfig;
}): EngineState {
  const userId = opts.userId ?? 'u';
  const nowMs = opts.nowMs ?? T0;
  const events: WalEvent[] = [
    { type: 'engine.initialized', epoch: nowMs.toString(36) },
    {
      type: 'session.started',
      userId,
      mode: 'paper',
      capitalUsd: toUsd(opts.capitalUsd),
      stopLossPct: opts.stopLossPct ?? null,
      horizonDeadlineMs: opts.horizonDeadlineMs ?? null,
      atMs: nowMs,
    },
    ...opts.positions.map((p): WalEvent => ({
      type: 'position.adopted',
      userId,
      symbol: p.symbol,
      qty: toQty(p.qty),
      entryPrice: toPrice(p.entryPrice),
      reason: 'test',
    })),
  ];
  const durable: DurableState = foldEvents(emptyDurableState(), events, opts.config ?? testConfig);
  const filters = opts.filters ?? testFilters;
  return { durable, market: emptyMarketState(nowMs, { paper: filters, live: filters }) };
}

/** Adds a quote to a state's market view (of one venue) as if the tick arrived at `receivedAtMs`. */
export function withQuote(state: EngineState, symbol: string, bid: number, ask: number, receivedAtMs: number, venue: Venue = 'paper'): EngineState {
  return { ...state, market: { ...state.market, venues: withVenueQuote(state.market.venues, venue, { symbol, bid, ask, time: receivedAtMs }, receivedAtMs) } };
}

/** A driver with these quotes (bid, ask per symbol) and one paper session of user `u` started on them. */
export function startedSession(quotes: Record<string, readonly [number, number]>, capitalUsd = 10_000): CoreDriver {
  const d = new CoreDriver();
  for (const [symbol, [bid, ask]] of Object.entries(quotes)) d.tick(symbol, bid, ask);
  d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd });
  return d;
}

/**
 * A session of `u` holding BTC: started at 10 000 USD, half its capital routed to BTCUSDT at 50 000 / 50 000.1 and the
 * entry filled at 50 000. `config` overrides the defaults.
 */
export function holdingBtcDriver(config: Partial<CoreConfig> = {}): CoreDriver {
  const d = new CoreDriver({ config: withConfig(config) });
  d.tick('BTCUSDT', 50_000, 50_000.1);
  d.command({ id: 'start', userId: 'u', type: 'session.start', mode: 'paper', capitalUsd: 10_000 });
  const entry = placed(d.command({ id: 'r1', userId: 'signals', type: 'signals.route', signals: [{ symbol: 'BTCUSDT', weight: 0.5 }] }))[0]?.order;
  if (!entry) throw new Error('no entry');
  d.fill(entry.clientOrderId, 50_000);
  return d;
}
