import type { USDMClient } from 'binance';
import type { Logger } from '../../util/logger.js';
import type { AccountCredentials, ExchangeAccount, Subscription, UserStreamNews } from '../port.js';
import type { CancelOutcome, OrderRequest, OrderSnapshot, PlaceOutcome, QueryOutcome } from '../../model/orders.js';
import type { ProtectiveStopRequest, ProtectiveStopSnapshot, StopOutcome } from '../../model/protective-stops.js';
import type { Classified } from './errors.js';
import { classifyError, duplicateClientOrderIdCode, orderDoesNotExistCode, timestampOutsideRecvWindowCode } from './errors.js';
import { toOrderSnapshot, toPositions, toProtectiveStops } from './mapping.js';
import type { FundingPayment } from '../../model/positions.js';
import { createRestClient, syncClock, usedWeight1m } from './rest-client.js';
import type { StreamRoutes } from './stream-routes.js';
import { userStreamUrl } from './stream-routes.js';
import type { KeepAliveResult, UserStream, UserStreamTimings } from './user-stream.js';
import { openUserStream } from './user-stream.js';

/** PUT /fapi/v1/listenKey on a key that does not exist (expired, deleted): POST a new one (user-stream.ts). */
const listenKeyDoesNotExistCode = -1125;

export interface AccountOptions {
  restBaseUrl: string;
  wsBaseUrl: string;
  streamRoutes: StreamRoutes;
  restTimeoutMs: number;
  recvWindowMs: number;
  wsReconnectDelayMs: number;
  /** Keep-alive period, retry, silence probe and echo timeout of the user-data stream (user-stream.ts). */
  userStream: UserStreamTimings;
  onUsedWeight?: ((weight1m: number) => void) | undefined;
  logger?: Logger | undefined;
}

/** An answer we cannot read may still describe an executed order: unknown, to be queried, never rejected. */
function readOrder<T>(raw: unknown, wrap: (order: OrderSnapshot) => T): T | { kind: 'unknown'; reason: string } {
  try {
    return wrap(toOrderSnapshot(raw));
  } catch (error) {
    return { kind: 'unknown', reason: `unreadable answer: ${String(error)}` };
  }
}

export class BinanceAccount implements ExchangeAccount {
  private readonly client: USDMClient;
  private clockSynced: Promise<void> | null = null;
  private readonly userStreams = new Set<UserStream>();

  constructor(
    credentials: AccountCredentials,
    private readonly opts: AccountOptions,
  ) {
    this.client = createRestClient({ ...opts, apiKey: credentials.apiKey, apiSecret: credentials.apiSecret });
  }

  private ensureClock(): Promise<void> {
    this.clockSynced ??= syncClock(this.client).then(
      () => undefined,
      (error: unknown) => {
        this.clockSynced = null; // try again next call
        this.opts.logger?.warn({ err: error }, 'clock sync failed');
      },
    );
    return this.clockSynced;
  }

  /**
   * Runs a signed call. -1021 (timestamp outside recvWindow) means the request was refused before any
   * processing, so resyncing the clock and sending the identical request once more is safe.
   */
  private async call<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Classified }> {
    await this.ensureClock();
    for (let attempt = 0; ; attempt += 1) {
      try {
        const value = await fn();
        this.reportWeight();
        return { ok: true, value };
      } catch (error) {
        this.reportWeight();
        const classified = classifyError(error);
        if (classified.kind === 'rejected' && classified.code === timestampOutsideRecvWindowCode && attempt === 0) {
          this.clockSynced = null;
          await this.ensureClock();
          continue;
        }
        return { ok: false, error: classified };
      }
    }
  }

  private reportWeight(): void {
    const weight = usedWeight1m(this.client);
    if (weight !== null) this.opts.onUsedWeight?.(weight);
  }

  async placeOrder(req: OrderRequest): Promise<PlaceOutcome> {
    const result = await this.call(() =>
      this.client.submitNewOrder({
        symbol: req.symbol,
        side: req.side,
        type: req.type,
        quantity: req.quantity as unknown as number, // sent verbatim: exact decimal string
        ...(req.price !== undefined ? { price: req.price as unknown as number } : {}),
        ...(req.timeInForce !== undefined ? { timeInForce: req.timeInForce } : {}),
        reduceOnly: req.reduceOnly ? 'true' : 'false',
        newClientOrderId: req.clientOrderId,
        newOrderRespType: 'RESULT',
      }),
    );
    if (result.ok) {
      for (const stream of this.userStreams) stream.expectEcho(req.clientOrderId);
      return readOrder(result.value, (order) => ({ kind: 'accepted', order }));
    }
    if (result.error.kind === 'unknown') return { kind: 'unknown', reason: result.error.reason };
    if (result.error.code === duplicateClientOrderIdCode) {
      // Our earlier attempt with this id got through: adopt that order instead of failing.
      const found = await this.queryOrder(req.symbol, req.clientOrderId);
      if (found.kind === 'found') return { kind: 'accepted', order: found.order };
      return { kind: 'unknown', reason: 'duplicate client order id, but the order could not be read' };
    }
    return {
      kind: 'rejected',
      code: result.error.code,
      message: result.error.message,
      ...(result.error.retryAfterMs !== undefined ? { retryAfterMs: result.error.retryAfterMs } : {}),
    };
  }

  async cancelOrder(symbol: string, clientOrderId: string): Promise<CancelOutcome> {
    const result = await this.call(() => this.client.cancelOrder({ symbol, origClientOrderId: clientOrderId }));
    if (result.ok) return readOrder(result.value, (order) => ({ kind: 'canceled', order }));
    if (result.error.kind === 'unknown') return { kind: 'unknown', reason: result.error.reason };
    return { kind: 'rejected', code: result.error.code, message: result.error.message };
  }

  async queryOrder(symbol: string, clientOrderId: string): Promise<QueryOutcome> {
    const result = await this.call(() => this.client.getOrder({ symbol, origClientOrderId: clientOrderId }));
    if (result.ok) return readOrder(result.value, (order) => ({ kind: 'found', order }));
    if (result.error.kind === 'rejected' && result.error.code === orderDoesNotExistCode) return { kind: 'not_found' };
    return { kind: 'unknown', reason: result.error.kind === 'unknown' ? result.error.reason : `${result.error.code} ${result.error.message}` };
  }

  async placeProtectiveStop(req: ProtectiveStopRequest): Promise<StopOutcome> {
    const result = await this.call(() =>
      this.client.submitNewAlgoOrder({
        algoType: 'CONDITIONAL',
        symbol: req.symbol,
        side: req.side,
        type: 'STOP_MARKET',
        triggerPrice: req.triggerPrice,
        closePosition: 'true',
        workingType: 'CONTRACT_PRICE',
        clientAlgoId: req.clientAlgoId,
      }),
    );
    if (result.ok) return { kind: 'accepted' };
    if (result.error.kind === 'unknown') return { kind: 'unknown', reason: result.error.reason };
    return { kind: 'rejected', code: result.error.code, message: result.error.message };
  }

  async cancelProtectiveStop(_symbol: string, clientAlgoId: string): Promise<StopOutcome> {
    const result = await this.call(() => this.client.cancelAlgoOrder({ clientAlgoId }));
    if (result.ok) return { kind: 'accepted' };
    if (result.error.kind === 'unknown') return { kind: 'unknown', reason: result.error.reason };
    return { kind: 'rejected', code: result.error.code, message: result.error.message };
  }

  async listProtectiveStops(): Promise<ProtectiveStopSnapshot[]> {
    const result = await this.call(() => this.client.getOpenAlgoOrders());
    if (!result.ok) throw new Error(`open algo orders unavailable: ${JSON.stringify(result.error)}`);
    return toProtectiveStops(result.value);
  }

  async getPositions() {
    const result = await this.call(() => this.client.getPositionsV3());
    if (!result.ok) throw new Error(`positions unavailable: ${JSON.stringify(result.error)}`);
    return toPositions(result.value);
  }

  async getOpenOrders(): Promise<OrderSnapshot[]> {
    const result = await this.call(() => this.client.getAllOpenOrders());
    if (!result.ok) throw new Error(`open orders unavailable: ${JSON.stringify(result.error)}`);
    return (result.value as unknown[]).map(toOrderSnapshot);
  }

  private async keepAliveListenKey(): Promise<KeepAliveResult> {
    const result = await this.call(() => this.client.keepAliveFuturesUserDataListenKey());
    if (result.ok) return 'ok';
    if (result.error.kind === 'rejected' && result.error.code === listenKeyDoesNotExistCode) return 'expired';
    return { failed: result.error.kind === 'unknown' ? result.error.reason : `${result.error.code} ${result.error.message}` };
  }

  async subscribeOrderUpdates(
    onUpdate: (order: OrderSnapshot) => void,
    onFunding?: (payment: FundingPayment) => void,
    news?: UserStreamNews,
  ): Promise<Subscription> {
    const stream = await openUserStream({
      url: async () => {
        const result = await this.call(() => this.client.getFuturesUserDataListenKey());
        if (!result.ok) throw new Error(`listen key unavailable: ${JSON.stringify(result.error)}`);
        return userStreamUrl(this.opts.wsBaseUrl, result.value.listenKey, this.opts.streamRoutes);
      },
      keepAlive: () => this.keepAliveListenKey(),
      timings: this.opts.userStream,
      reconnectDelayMs: this.opts.wsReconnectDelayMs,
      nowMs: () => Date.now(),
      logger: this.opts.logger,
      onUpdate,
      onFunding,
      news,
    });
    this.userStreams.add(stream);
    return {
      close: async () => {
        this.userStreams.delete(stream);
        await stream.close();
      },
    };
  }

  async close(): Promise<void> {
    // REST is stateless; streams are closed through their subscriptions.
  }
}
