import type { USDMClient } from 'binance';
import type { Logger } from '../../util/logger.js';
import type { AccountCredentials, ExchangeAccount, Subscription, UserStreamNews } from '../port.js';
import type { CancelOutcome, OrderRequest, OrderSnapshot, PlaceOutcome, QueryOutcome } from '../../model/orders.js';
import type { ProtectiveStopRequest, ProtectiveStopSnapshot, StopOutcome } from '../../model/protective-stops.js';
import type { Classified } from './errors.js';
import { classifyError, duplicateClientOrderIdCode, orderDoesNotExistCode, timestampOutsideRecvWindowCode } from './errors.js';
import { toAccountTrades, toIncomeRecords, toAvailableUsdt, toBrackets, toOrderSnapshot, toPositionRisks, toPositions, toProtectiveStops } from './mapping.js';
import type { AccountMarginState, MarginType, SettingOutcome } from '../../model/margin.js';
import type { FundingPayment } from '../../model/positions.js';
import type { AccountTrade, TradesFrom } from '../../model/trades.js';
import type { IncomeRead } from '../../model/income.js';
import type { IncomeType } from 'binance';
import { rateAccountKeyOf } from '../rate-account-key.js';
import { createRestClient } from './rest-client.js';
import type { SharedClock } from './own-requests.js';
import { admitOwnRequest, BudgetRefusal } from './own-requests.js';
import type { SignGuard } from '../sign-guard.js';
import { RequestNotSentError } from '../sign-guard.js';
import { notSentCode } from '../../model/orders.js';
import type { RateBudget } from '../rate-budget.js';
import type { RequestSlots } from '../request-slots.js';
import type { Lane } from '../../model/lane.js';
import { defaultRateBudgetLimits, rateHeadersOf } from '../rate-budget.js';
import type { StreamRoutes } from './stream-routes.js';
import { userStreamUrl } from './stream-routes.js';
import type { KeepAliveResult, UserStream, UserStreamTimings } from './user-stream.js';
import { openUserStream } from './user-stream.js';
import type { SilenceProbeRation } from './probe-ration.js';

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
  /** The silence probes' ration, shared by every account of the connector (probe-ration.ts). */
  silenceProbeRation?: SilenceProbeRation | undefined;
  /** This venue's budget: every response's rate headers and every 429/418 go into it. */
  rateBudget?: RateBudget | undefined;
  logger?: Logger | undefined;
  /** The venue's clock offset, measured once for every account of the connector (own-requests.ts). */
  clock: SharedClock;
  /** Asked right before every signed request (a cluster worker's lease guard); none in one process. */
  signGuard?: SignGuard | undefined;
  /** The connector's bound on requests in flight, shared by its accounts (request-slots.ts); none: unbounded. */
  requestSlots?: RequestSlots | undefined;
  /** Sent as X-QE-Client (the simulator's request log tells workers apart by it); paper venue only. */
  clientId?: string | undefined;
}

/**
 * POST and PUT /fapi/v1/listenKey: weight 1 each
 * (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Start-User-Data-Stream).
 * No effect stands behind them, so the adapter charges them to the budget itself: at boot every session opens its
 * stream at once, and uncharged they pushed a thousand-session boot past the IP limit into a ban. They go on the
 * normal lane: a thousand of them are bulk work, and on the priority lane they took the weight a stop's urgent reads
 * need after a restart (bench bootFirstStopMs 14–25 s instead of 18–99 ms with 1 000 busy sessions).
 */
const listenKeyCost = { weight: 1, orders: 0 } as const;

/** HTTP statuses of Binance's rate limiting (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info). */
const rateLimitedStatus = 429;
const bannedStatus = 418;

/** An answer we cannot read may still describe an executed order: unknown, to be queried, never rejected. */
function readOrder<T>(raw: unknown, wrap: (order: OrderSnapshot) => T): T | { kind: 'unknown'; reason: string } {
  try {
    return wrap(toOrderSnapshot(raw));
  } catch (error) {
    return { kind: 'unknown', reason: `unreadable answer: ${String(error)}` };
  }
}

/** https://developers.binance.com/docs/derivatives/usds-margined-futures/error-code: -4046 NO_NEED_TO_CHANGE_MARGIN_TYPE. */
const noNeedToChangeMarginTypeCode = -4046;
/** The largest page of GET /fapi/v1/userTrades (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Account-Trade-List). */
const tradesPageLimit = 1000;
/** The largest page of GET /fapi/v1/income ("Default 100; max 1000", https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Income-History). */
export const incomePageLimit = 1000;

function settingOutcome(result: { ok: true } | { ok: false; error: Classified }): SettingOutcome {
  if (result.ok) return { kind: 'ok' };
  if (result.error.kind === 'unknown') return { kind: 'unknown', reason: result.error.reason };
  return { kind: 'rejected', code: result.error.code, message: result.error.message };
}

export class BinanceAccount implements ExchangeAccount {
  private readonly client: USDMClient;
  readonly rateKey: string;
  private readonly userStreams = new Set<UserStream>();

  constructor(
    credentials: AccountCredentials,
    private readonly opts: AccountOptions,
  ) {
    this.rateKey = rateAccountKeyOf(credentials.apiKey);
    this.client = createRestClient(
      {
        ...opts,
        apiKey: credentials.apiKey,
        apiSecret: credentials.apiSecret,
        ...(opts.signGuard && { signGuard: opts.signGuard }),
        ...(opts.clientId !== undefined && { clientId: opts.clientId }),
      },
      (headers, sentAtMs) => this.recordHeaders(headers, sentAtMs),
    );
  }

  /**
   * The exchange's counts from every response, success or error, raise the budget's estimates of the windows the
   * request was sent and answered in (a late answer of a past minute is that minute's count, not this one's).
   */
  private recordHeaders(headers: unknown, sentAtMs: number | undefined): void {
    const budget = this.opts.rateBudget;
    if (!budget) return;
    budget
      .recordHeaders(this.rateKey, rateHeadersOf(headers), Date.now(), sentAtMs)
      .catch((error: unknown) => this.opts.logger?.warn({ err: error }, 'rate budget not updated'));
  }

  /** A 429 pauses the normal lane, a 418 (ban) every lane, for Retry-After. */
  private recordBackoff(error: Classified): void {
    const budget = this.opts.rateBudget;
    if (!budget || error.kind !== 'rejected' || (error.httpStatus !== rateLimitedStatus && error.httpStatus !== bannedStatus)) return;
    const kind = error.httpStatus === bannedStatus ? 'banned' : 'rate_limited';
    budget
      .recordBackoff(error.retryAfterMs ?? defaultRateBudgetLimits.defaultBackoffMs, Date.now(), kind)
      .catch((err: unknown) => this.opts.logger?.warn({ err }, 'rate budget back-off not recorded'));
  }

  /** Applies the venue's clock offset to signing; a failed measurement is logged and measured again on the next call. */
  private async ensureClock(): Promise<void> {
    try {
      this.client.setTimeOffset(await this.opts.clock.offsetMs());
    } catch (error) {
      // Refused by the budget (a ban, a full minute): nothing was sent, and every call would say so; stay quiet.
      if (error instanceof BudgetRefusal) this.opts.logger?.debug({ err: error }, 'clock sync waits for the request budget');
      else this.opts.logger?.warn({ err: error }, 'clock sync failed');
    }
  }

  /**
   * Runs a signed call. -1021 (timestamp outside recvWindow) means the request was refused before any
   * processing, so resyncing the clock and sending the identical request once more is safe (signed anew, so the
   * sign guard is asked again). A request the sign guard refused was never sent: rejected with notSentCode.
   */
  private async call<T>(fn: () => Promise<T>, lane: Lane = 'normal'): Promise<{ ok: true; value: T } | { ok: false; error: Classified }> {
    await this.ensureClock();
    for (let attempt = 0; ; attempt += 1) {
      try {
        // fn() signs as it is called: it waits for its slot unsigned (request-slots.ts).
        const value = this.opts.requestSlots ? await this.opts.requestSlots.run(lane, fn) : await fn();
        return { ok: true, value };
      } catch (error) {
        if (error instanceof RequestNotSentError)
          return { ok: false, error: { kind: 'rejected', code: notSentCode, message: `not sent: ${error.message}`, httpStatus: 0 } };
        const classified = classifyError(error);
        this.recordBackoff(classified);
        if (classified.kind === 'rejected' && classified.code === timestampOutsideRecvWindowCode && attempt === 0) {
          this.opts.clock.invalidate();
          await this.ensureClock();
          continue;
        }
        return { ok: false, error: classified };
      }
    }
  }

  async placeOrder(req: OrderRequest): Promise<PlaceOutcome> {
    const result = await this.call(
      () =>
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
      req.reduceOnly ? 'priority' : 'normal',
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
    const result = await this.call(() => this.client.cancelOrder({ symbol, origClientOrderId: clientOrderId }), 'priority');
    if (result.ok) return readOrder(result.value, (order) => ({ kind: 'canceled', order }));
    if (result.error.kind === 'unknown') return { kind: 'unknown', reason: result.error.reason };
    return { kind: 'rejected', code: result.error.code, message: result.error.message };
  }

  async queryOrder(symbol: string, clientOrderId: string): Promise<QueryOutcome> {
    // Priority: it resolves an order whose outcome is unknown, a flatten's as much as an entry's.
    const result = await this.call(() => this.client.getOrder({ symbol, origClientOrderId: clientOrderId }), 'priority');
    if (result.ok) return readOrder(result.value, (order) => ({ kind: 'found', order }));
    if (result.error.kind === 'rejected' && result.error.code === orderDoesNotExistCode) return { kind: 'not_found' };
    return { kind: 'unknown', reason: result.error.kind === 'unknown' ? result.error.reason : `${result.error.code} ${result.error.message}` };
  }

  async queryOrderByExchangeId(symbol: string, exchangeOrderId: string): Promise<QueryOutcome> {
    // "Either orderId or origClientOrderId must be sent"
    // (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Query-Order).
    const result = await this.call(() => this.client.getOrder({ symbol, orderId: Number(exchangeOrderId) }), 'priority');
    if (result.ok) return readOrder(result.value, (order) => ({ kind: 'found', order }));
    if (result.error.kind === 'rejected' && result.error.code === orderDoesNotExistCode) return { kind: 'not_found' };
    return { kind: 'unknown', reason: result.error.kind === 'unknown' ? result.error.reason : `${result.error.code} ${result.error.message}` };
  }

  async placeProtectiveStop(req: ProtectiveStopRequest): Promise<StopOutcome> {
    const result = await this.call(
      () =>
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
      'priority',
    );
    if (result.ok) return { kind: 'accepted' };
    if (result.error.kind === 'unknown') return { kind: 'unknown', reason: result.error.reason };
    // Not sent: the next listing finds it missing and the core places it again; a rejection would drop the stop.
    if (result.error.code === notSentCode) return { kind: 'unknown', reason: result.error.message };
    return { kind: 'rejected', code: result.error.code, message: result.error.message };
  }

  async cancelProtectiveStop(_symbol: string, clientAlgoId: string): Promise<StopOutcome> {
    const result = await this.call(() => this.client.cancelAlgoOrder({ clientAlgoId }), 'priority');
    if (result.ok) return { kind: 'accepted' };
    if (result.error.kind === 'unknown') return { kind: 'unknown', reason: result.error.reason };
    return { kind: 'rejected', code: result.error.code, message: result.error.message };
  }

  /**
   * Per symbol when symbols are given: openAlgoOrders weighs 1 with a symbol and 40 without
   * (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Current-All-Algo-Open-Orders).
   */
  async listProtectiveStops(symbols?: readonly string[]): Promise<ProtectiveStopSnapshot[]> {
    if (symbols === undefined) {
      const result = await this.call(() => this.client.getOpenAlgoOrders());
      if (!result.ok) throw new Error(`open algo orders unavailable: ${JSON.stringify(result.error)}`);
      return toProtectiveStops(result.value);
    }
    const out: ProtectiveStopSnapshot[] = [];
    for (const symbol of symbols) {
      const result = await this.call(() => this.client.getOpenAlgoOrders({ symbol }));
      if (!result.ok) throw new Error(`open algo orders of ${symbol} unavailable: ${JSON.stringify(result.error)}`);
      out.push(...toProtectiveStops(result.value));
    }
    return out;
  }

  async listTrades(symbol: string, from: TradesFrom): Promise<AccountTrade[]> {
    const start = 'fromId' in from ? { fromId: Number(from.fromId) } : { startTime: from.startTimeMs };
    const result = await this.call(() => this.client.getAccountTrades({ symbol, ...start, limit: tradesPageLimit }));
    if (!result.ok) throw new Error(`trades of ${symbol} unavailable: ${JSON.stringify(result.error)}`);
    return toAccountTrades(result.value);
  }

  async listIncome(incomeType: string, startTimeMs: number): Promise<IncomeRead> {
    // The client's types name the documented income types; the string is passed through as the exchange spells it.
    const params = { incomeType: incomeType as IncomeType, startTime: startTimeMs, limit: incomePageLimit };
    const result = await this.call(() => this.client.getIncomeHistory(params));
    if (!result.ok) throw new Error(`income history unavailable: ${JSON.stringify(result.error)}`);
    return toIncomeRecords(result.value);
  }

  async getPositions() {
    const result = await this.call(() => this.client.getPositionsV3());
    if (!result.ok) throw new Error(`positions unavailable: ${JSON.stringify(result.error)}`);
    return toPositions(result.value);
  }

  /**
   * Per symbol when symbols are given: openOrders weighs 1 with a symbol and 40 without
   * (https://developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/Current-All-Open-Orders).
   */
  async getOpenOrders(symbols?: readonly string[]): Promise<OrderSnapshot[]> {
    if (symbols === undefined) {
      const result = await this.call(() => this.client.getAllOpenOrders());
      if (!result.ok) throw new Error(`open orders unavailable: ${JSON.stringify(result.error)}`);
      return (result.value as unknown[]).map(toOrderSnapshot);
    }
    const out: OrderSnapshot[] = [];
    for (const symbol of symbols) {
      const result = await this.call(() => this.client.getAllOpenOrders({ symbol }));
      if (!result.ok) throw new Error(`open orders of ${symbol} unavailable: ${JSON.stringify(result.error)}`);
      out.push(...(result.value as unknown[]).map(toOrderSnapshot));
    }
    return out;
  }

  async readMarginState(symbols: readonly string[]): Promise<AccountMarginState> {
    const read = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
      const result = await this.call(fn);
      if (!result.ok) throw new Error(`${what} unavailable: ${JSON.stringify(result.error)}`);
      return result.value;
    };
    // One after another, not in parallel: each draws from the same request-weight minute (101 weight in all).
    const mode = await read('position mode', () => this.client.getCurrentPositionMode());
    const multi = await read('multi-assets mode', () => this.client.getMultiAssetsMode());
    // Weight 30 (https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-BNB-Burn-Status).
    const burn = await read('BNB fee discount', () => this.client.getBNBBurnStatus());
    const balance = await read('balance', () => this.client.getBalanceV3());
    const brackets = await read('leverage brackets', () => this.client.getNotionalAndLeverageBrackets());
    const positions = await read('positions', () => this.client.getPositionsV3());
    return {
      dualSidePosition: mode.dualSidePosition,
      multiAssetsMargin: multi.multiAssetsMargin,
      feeBurn: burn.feeBurn,
      availableBalanceUsd: toAvailableUsdt(balance),
      brackets: toBrackets(brackets, symbols),
      positions: toPositionRisks(positions),
    };
  }

  async setLeverage(symbol: string, leverage: number): Promise<SettingOutcome> {
    return settingOutcome(await this.call(() => this.client.setLeverage({ symbol, leverage })));
  }

  async setMarginType(symbol: string, marginType: MarginType): Promise<SettingOutcome> {
    const outcome = settingOutcome(await this.call(() => this.client.setMarginType({ symbol, marginType })));
    // -4046 "No need to change margin type.": it already is what we want.
    return outcome.kind === 'rejected' && outcome.code === noNeedToChangeMarginTypeCode ? { kind: 'ok' } : outcome;
  }

  private async keepAliveListenKey(): Promise<KeepAliveResult> {
    try {
      await admitOwnRequest(this.opts.rateBudget, listenKeyCost, 'normal');
    } catch (error) {
      return { failed: String(error) }; // not sent: the keep-alive is tried again after keepaliveRetryMs
    }
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
        await admitOwnRequest(this.opts.rateBudget, listenKeyCost, 'normal'); // refused: thrown, and the stream retries after Retry-After
        const result = await this.call(() => this.client.getFuturesUserDataListenKey());
        if (!result.ok) throw new Error(`listen key unavailable: ${JSON.stringify(result.error)}`);
        return userStreamUrl(this.opts.wsBaseUrl, result.value.listenKey, this.opts.streamRoutes);
      },
      keepAlive: () => this.keepAliveListenKey(),
      timings: this.opts.userStream,
      probeRation: this.opts.silenceProbeRation,
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
