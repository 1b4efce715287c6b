import type { CoreConfig } from '../../src/core/config.js';
import { defaultCoreConfig } from '../../src/core/config.js';
import type { Decision, Input } from '../../src/core/decide.js';
import { decide } from '../../src/core/decide.js';
import type { WalEvent } from '../../src/core/events.js';
import type { EngineState } from '../../src/core/state.js';
import { emptyDurableState, emptyMarketState } from '../../src/core/state.js';
import type { SymbolFilters } from '../../src/exchange/types.js';

export const btcFilters: SymbolFilters = {
  symbol: 'BTCUSDT',
  tickSize: '0.10',
  minPrice: '0.10',
  maxPrice: '1000000',
  stepSize: '0.001',
  minQty: '0.001',
  maxQty: '1000',
  marketStepSize: '0.001',
  marketMaxQty: '120',
  minNotional: '100',
};

export const ethFilters: SymbolFilters = { ...btcFilters, symbol: 'ETHUSDT', tickSize: '0.01', minPrice: '0.01', minNotional: '20' };

export const testConfig: CoreConfig = { ...defaultCoreConfig, symbols: ['BTCUSDT', 'ETHUSDT'] };

/** Drives decide() like the shell does, keeping every WAL event and output for inspection. */
export class CoreDriver {
  state: EngineState;
  readonly wal: WalEvent[] = [];
  readonly decisions: Decision[] = [];
  private entry = 0;

  constructor(
    public nowMs = 1_700_000_000_000,
    readonly config: CoreConfig = testConfig,
  ) {
    this.state = { durable: emptyDurableState(), market: emptyMarketState(nowMs, { BTCUSDT: btcFilters, ETHUSDT: ethFilters }) };
    this.step({ kind: 'boot' });
  }

  step(input: Input): Decision {
    const d = decide(this.state, input, this.nowMs, this.config);
    this.state = d.state;
    this.wal.push(...d.wal);
    this.decisions.push(d);
    return d;
  }

  command(body: Record<string, unknown> | string, deliveryCount = 1): Decision {
    this.entry += 1;
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    return this.step({ kind: 'command', delivery: { entryId: `${this.entry}-0`, raw, deliveryCount } });
  }

  tick(symbol: string, bid: number, ask: number): Decision {
    return this.step({ kind: 'tick', tick: { symbol, bid, ask, time: this.nowMs } });
  }

  /** Reports a placed order as filled at `price`. */
  fill(clientOrderId: string, price: number, status: 'FILLED' | 'PARTIALLY_FILLED' = 'FILLED', executedQty?: string): Decision {
    const order = this.state.durable.orders[clientOrderId];
    if (!order) throw new Error(`no order ${clientOrderId}`);
    return this.step({
      kind: 'order_update',
      order: { clientOrderId, exchangeOrderId: `x-${clientOrderId}`, symbol: order.symbol, side: order.side, status, origQty: order.quantity, executedQty: executedQty ?? order.quantity, avgPrice: String(price), updateTime: this.nowMs },
    });
  }

  placed(d: Decision): Extract<Decision['effects'][number], { kind: 'place' }>[] {
    return d.effects.filter((e): e is Extract<Decision['effects'][number], { kind: 'place' }> => e.kind === 'place');
  }
}
