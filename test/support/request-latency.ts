import type { ManualClock } from '../../src/engine/clock.js';
import type { ExchangeAccount, ExchangeConnector } from '../../src/exchange/port.js';

// The backtest's latency on the live path: every exchange request the engine's effects make (orders, cancels, reads)
// is held at the adapter until the driver releases it at its due time, latencyMs of the manual clock after it was
// made, as the backtest's venue performs each effect latencyMs after its decision (src/backtest/venue.ts). The driver
// releases one request at a time, in the order they were made, and lets the engine settle its answer before the next,
// as the venue does. Requests made while the gate is open (boot, before the replay) go straight through.

/** The account calls an effect makes (src/engine/perform-effect.ts); the user stream and the preflight are not held. */
const effectCalls = new Set<string>([
  'placeOrder',
  'cancelOrder',
  'queryOrder',
  'queryOrderByExchangeId',
  'getPositions',
  'getOpenOrders',
  'placeProtectiveStop',
  'cancelProtectiveStop',
  'listProtectiveStops',
  'listTrades',
  'listIncome',
]);

interface HeldRequest {
  dueMs: number;
  /** The call and what it was about (`placeOrder c-123`), for the driver's waits and failures. */
  what: string;
  release: () => void;
}

export class RequestLatency {
  /** Held until released, in the order made. */
  private readonly held: HeldRequest[] = [];
  /** Requests released (or let through) whose answers have not come back. */
  private running = 0;
  /** Per client id, its placement or cancel requests held (the engine has the order pending or cancel-requested). */
  private readonly heldOrders = new Map<string, number>();
  /** Placements and cancels made so far (`placeOrder <client id>`, `cancelOrder <client id>`), held or not. */
  readonly made = new Set<string>();
  /** Off until the replay starts: boot's requests go straight through. */
  holding = false;

  constructor(
    private readonly clock: ManualClock,
    readonly latencyMs: number,
  ) {}

  /** The connector with every account's effect calls passing through the gate. */
  wrap(connector: ExchangeConnector): ExchangeConnector {
    return { marketData: () => connector.marketData(), account: (credentials) => this.wrapAccount(connector.account(credentials)) };
  }

  /** Whether a call of this account method (`listIncome`, say) is held. */
  isCallHeld(name: string): boolean {
    return this.held.some((r) => r.what.startsWith(`${name} `));
  }

  /** Whether a placement or cancel of this order is held. */
  isHeld(clientOrderId: string): boolean {
    return (this.heldOrders.get(clientOrderId) ?? 0) > 0;
  }

  /** Requests in flight (released, not answered). */
  get inFlight(): number {
    return this.running;
  }

  /** The earliest due time of a held request, if any is due by `uptoMs`. */
  nextDueBy(uptoMs: number): number | null {
    const due = this.held.reduce<number | null>((min, r) => (min === null || r.dueMs < min ? r.dueMs : min), null);
    return due !== null && due <= uptoMs ? due : null;
  }

  /** Releases the first-made request due at `dueMs`; answers what it was. */
  releaseOne(dueMs: number): string {
    const index = this.held.findIndex((r) => r.dueMs === dueMs);
    const [request] = this.held.splice(index, 1);
    if (!request) throw new Error(`no request held due at ${dueMs}`);
    request.release();
    return request.what;
  }

  /** Lets every held request go and holds no more (the end of a run: the service stops only once its requests are answered). */
  open(): void {
    this.holding = false;
    for (const request of this.held.splice(0)) request.release();
  }

  private wrapAccount(account: ExchangeAccount): ExchangeAccount {
    return new Proxy(account, {
      get: (target, name, receiver) => {
        const value: unknown = Reflect.get(target, name, receiver);
        if (typeof name !== 'string' || !effectCalls.has(name) || typeof value !== 'function') return value;
        return (...args: unknown[]) => this.call(name, args, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      },
    });
  }

  private async call(name: string, args: unknown[], run: () => Promise<unknown>): Promise<unknown> {
    // A placement names its order by its request's client id, a cancel by its second argument.
    const orderId = name === 'placeOrder' ? (args[0] as { clientOrderId: string }).clientOrderId : name === 'cancelOrder' ? String(args[1]) : null;
    if (orderId !== null) this.made.add(`${name} ${orderId}`);
    if (this.holding) {
      if (orderId !== null) this.heldOrders.set(orderId, (this.heldOrders.get(orderId) ?? 0) + 1);
      await new Promise<void>((release) => this.held.push({ dueMs: this.clock.nowMs() + this.latencyMs, what: `${name} ${orderId ?? ''}`, release }));
      if (orderId !== null) this.heldOrders.set(orderId, (this.heldOrders.get(orderId) ?? 1) - 1);
    }
    this.running += 1;
    try {
      return await run();
    } finally {
      this.running -= 1;
    }
  }
}
