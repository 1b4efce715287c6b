import type { FundingPayment } from '../../model/positions.js';
import type { OrderSnapshot } from '../../model/orders.js';
import { terminalOrderStatuses } from '../../model/orders.js';
import type { Logger } from '../../util/logger.js';
import type { Subscription, UserStreamNews } from '../port.js';
import { toUserDataEvent } from './mapping.js';
import type { Stream } from './ws-stream.js';
import { openStream } from './ws-stream.js';
import type { SilenceProbeRation } from './probe-ration.js';

// The user-data stream's whole life (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams):
// - a listen key lives 60 min after creation or its last keep-alive (PUT /fapi/v1/listenKey); a PUT answered -1125
//   "This listenKey does not exist." means it is gone and a new one must be POSTed;
// - a key that expires while connected pushes `listenKeyExpired`, after which nothing more is delivered on it
//   (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Event-User-Data-Stream-Expired);
// - "A single connection is only valid for 24 hours; expect to be disconnected at the 24 hour mark".
// Each of these ends in the same recovery: a new key (the reconnect POSTs one), a new connection, and a gap reported
// once it is listening again, so the engine reads by REST what the stream may have missed.
//
// A socket can stay open, answering pings, on a key that died without notice, or be deaf for another reason: pings
// prove the TCP connection, not the stream. So silence is probed: after `silenceProbeMs` without a user-data message
// the key is kept alive out of turn (-1125 = dead key = renew), and an order we placed that the stream has not
// echoed within `echoTimeoutMs` proves the stream deaf (Binance pushes ORDER_TRADE_UPDATE for every new order).
// Probes are rationed across every account of the connector (probe-ration.ts): a quiet account gets no messages, so
// unrationed they cost one PUT per account per `silenceProbeMs`. A keep-alive answered ok, periodic or probe, proves
// the key alive: it restarts both the silence clock and the keep-alive period, so no key is PUT twice within minutes.

export type KeepAliveResult = 'ok' | 'expired' | { failed: string };

export interface UserStreamTimings {
  /** Keep-alive period (Binance: the key lives 60 min; keep it alive every 30–50 min). */
  keepaliveIntervalMs: number;
  /** After a failed keep-alive (timeout, 5xx), try again this much later, until one is answered. */
  keepaliveRetryMs: number;
  /** No user-data message for this long: probe the key with an out-of-turn keep-alive. */
  silenceProbeMs: number;
  /** An order we placed must show on the stream within this long, or the stream is deaf. */
  echoTimeoutMs: number;
}

export const defaultUserStreamTimings: UserStreamTimings = {
  keepaliveIntervalMs: 30 * 60_000,
  keepaliveRetryMs: 30_000,
  silenceProbeMs: 5 * 60_000,
  echoTimeoutMs: 30_000,
};

/** The first keep-alive comes up to this share of the period early (spread over the accounts of a boot). */
const firstKeepaliveSpreadShare = 0.5;
/** Orders awaiting their echo, at most; past it the oldest are forgotten (the silence probe still covers them). */
const maxPendingEchoes = 1_000;
/** Triggered algo orders remembered (actual order id → client algo id) until their order's last update arrives. */
const maxAlgoLinks = 1_000;

export interface UserStreamDeps {
  /** Shared by every stream of the connector; none = every probe goes out at once (one stream alone). */
  probeRation?: SilenceProbeRation | undefined;
  /** POSTs a listen key and returns the stream URL for it. */
  url: () => Promise<string>;
  keepAlive: () => Promise<KeepAliveResult>;
  timings: UserStreamTimings;
  reconnectDelayMs: number;
  nowMs: () => number;
  /** Draws in [0, 1) for the first keep-alive's spread (default Math.random). */
  random?: () => number;
  logger: Logger | undefined;
  onUpdate: (order: OrderSnapshot) => void;
  onFunding: ((payment: FundingPayment) => void) | undefined;
  news: UserStreamNews | undefined;
}

export interface UserStream extends Subscription {
  /** An order the exchange accepted: its ORDER_TRADE_UPDATE must follow within `echoTimeoutMs`. */
  expectEcho(clientOrderId: string): void;
  /**
   * Order ids held (what the stream keeps per account): awaiting their echo, pushed within `echoTimeoutMs`, and
   * orders placed by a triggered stop whose last update has not come yet.
   */
  heldOrderIds(): number;
}

function putBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
}

export async function openUserStream(deps: UserStreamDeps): Promise<UserStream> {
  const { timings, logger, news } = deps;
  let closed = false;
  let lastMessageAtMs = deps.nowMs();
  let gapReason = 'connection lost';
  /**
   * A PUT of the listen key is in flight (keep-alive or probe): never two at once. Under load a keep-alive due and a
   * probe due fell in the same turn and went 1 ms apart, the probe's answer then counting for nothing.
   */
  let keyCheckInFlight = false;
  /** Withdraws this stream's place in the probe ration's queue; null when it has none. */
  let probeQueued: (() => void) | null = null;
  const pendingEchoes = new Map<string, number>();
  /**
   * Orders the stream reported in the last `echoTimeoutMs` (id → when): on a fast venue the push can beat the REST
   * answer that asks for it, but never by more than that answer's own timeout (3 s by default), so an older push is
   * dropped at the next check. Kept until evicted (as before), 1 000 ids held ~70 kB an account (measured): ~700 MB
   * at 10 000 busy accounts.
   */
  const echoed = new Map<string, number>();
  const algoLinks = new Map<string, string>();
  let stream: Stream | null = null;

  const renew = (reason: string): void => {
    if (closed) return;
    logger?.warn({ reason }, 'user-data stream renewed');
    gapReason = reason;
    pendingEchoes.clear(); // the gap's reconcile covers them
    lastMessageAtMs = deps.nowMs();
    stream?.restart();
  };

  const onMessage = (message: unknown): void => {
    lastMessageAtMs = deps.nowMs();
    const event = toUserDataEvent(message);
    switch (event.kind) {
      case 'order': {
        pendingEchoes.delete(event.order.clientOrderId);
        putBounded(echoed, event.order.clientOrderId, lastMessageAtMs, maxPendingEchoes);
        const triggeredBy = algoLinks.get(event.order.exchangeOrderId);
        // The order's last update: nothing follows to link (kept, 1 000 links would hold ~100 kB an account for good).
        if (triggeredBy !== undefined && terminalOrderStatuses.has(event.order.status)) algoLinks.delete(event.order.exchangeOrderId);
        deps.onUpdate(triggeredBy !== undefined ? { ...event.order, triggeredBy } : event.order);
        return;
      }
      case 'account':
        if (deps.onFunding) for (const payment of event.funding) deps.onFunding(payment);
        if (event.positions.length > 0) news?.onPositions?.(event.positions);
        return;
      case 'algo':
        if (event.update.actualOrderId !== null) putBounded(algoLinks, event.update.actualOrderId, event.update.clientAlgoId, maxAlgoLinks);
        news?.onStopUpdate?.(event.update);
        return;
      case 'config':
        for (const change of event.changes) news?.onAccountConfig?.(change);
        return;
      case 'listen_key_expired':
        renew('listenKeyExpired');
        return;
      case 'malformed':
        logger?.warn({ type: event.type, reason: event.reason }, 'dropped a malformed user-data message');
        return;
      case 'ignored':
        return;
    }
  };

  // Keep-alive on its period; a failure is retried sooner; -1125 means the key is gone: renew.
  let keepaliveTimer: NodeJS.Timeout | null = null;
  const scheduleKeepalive = (delayMs: number): void => {
    if (closed) return;
    if (keepaliveTimer) clearTimeout(keepaliveTimer);
    keepaliveTimer = setTimeout(() => void keepalive(), delayMs);
  };
  /** A keep-alive answered ok: the key lives a full validity from now, and a quiet account is not a dead stream. */
  const keptAlive = (): void => {
    lastMessageAtMs = deps.nowMs();
    scheduleKeepalive(timings.keepaliveIntervalMs);
  };
  /** One PUT of the listen key, keep-alive or probe, marked in flight while it is out. */
  const checkKey = async (): Promise<KeepAliveResult> => {
    keyCheckInFlight = true;
    try {
      return await deps.keepAlive();
    } finally {
      keyCheckInFlight = false;
    }
  };
  const keepalive = async (): Promise<void> => {
    keepaliveTimer = null;
    if (keyCheckInFlight) {
      // A probe is out: answered ok it reschedules the keep-alive a whole period on (keptAlive); else this retry stands.
      scheduleKeepalive(timings.keepaliveRetryMs);
      return;
    }
    const result = await checkKey();
    if (closed) return;
    if (result === 'ok') {
      keptAlive();
    } else if (result === 'expired') {
      renew('listen key expired (keep-alive answered -1125)');
      scheduleKeepalive(timings.keepaliveIntervalMs);
    } else {
      logger?.warn({ reason: result.failed }, 'listen key keep-alive failed; retrying');
      scheduleKeepalive(timings.keepaliveRetryMs);
    }
  };

  // Silence and echo checks: server pings are not proof that the stream delivers.
  const probe = async (): Promise<void> => {
    const result = await checkKey();
    if (closed) return;
    if (result === 'expired') renew('silent stream on an expired listen key');
    else if (result === 'ok') keptAlive(); // the key is alive: a quiet account, not a dead stream
  };
  const silent = (now: number): boolean => now - lastMessageAtMs >= timings.silenceProbeMs;
  /** Asks the ration for a probe, once; when its turn comes the stream may have spoken meanwhile: then nothing is sent. */
  const queueProbe = (): void => {
    if (!deps.probeRation) {
      void probe();
      return;
    }
    probeQueued = () => undefined; // set before asking: the ration may answer at once
    const withdraw = deps.probeRation.request(() => {
      probeQueued = null;
      if (closed || keyCheckInFlight || !silent(deps.nowMs())) return false;
      void probe();
      return true;
    });
    if (probeQueued !== null) probeQueued = withdraw;
  };
  const check = (): void => {
    const now = deps.nowMs();
    for (const [clientOrderId, atMs] of echoed) {
      if (now - atMs < timings.echoTimeoutMs) break; // insertion order (re-put on each push): the rest are younger
      echoed.delete(clientOrderId);
    }
    for (const [clientOrderId, sinceMs] of pendingEchoes) {
      if (now - sinceMs < timings.echoTimeoutMs) break; // insertion order: the rest are younger
      renew(`deaf stream: order ${clientOrderId} not pushed within ${timings.echoTimeoutMs} ms`);
      return;
    }
    if (!keyCheckInFlight && probeQueued === null && silent(now)) queueProbe();
  };
  const checkTimer = setInterval(check, Math.max(10, Math.floor(Math.min(timings.silenceProbeMs, timings.echoTimeoutMs) / 4)));

  stream = await openStream({
    url: deps.url,
    onMessage,
    onOpen: (reopened) => {
      lastMessageAtMs = deps.nowMs();
      if (!reopened) return;
      const reason = gapReason;
      gapReason = 'connection lost';
      news?.onGap?.(reason);
    },
    logger,
    reconnectDelayMs: deps.reconnectDelayMs,
    maxReconnectDelayMs: 30_000,
    // The TCP-level backstop; the silence probe above is the stream-level one.
    idleTimeoutMs: 10 * 60_000,
  });
  // The first keep-alive at a spread point of the period's later half: streams opened together (a boot, a bench's
  // setup) would otherwise all keep alive in the same minute, every period: a thousand weight in one minute.
  scheduleKeepalive(timings.keepaliveIntervalMs - Math.floor((deps.random ?? Math.random)() * timings.keepaliveIntervalMs * firstKeepaliveSpreadShare));

  return {
    expectEcho(clientOrderId) {
      if (!closed && !echoed.has(clientOrderId)) putBounded(pendingEchoes, clientOrderId, deps.nowMs(), maxPendingEchoes);
    },
    heldOrderIds: () => pendingEchoes.size + echoed.size + algoLinks.size,
    async close() {
      closed = true;
      clearInterval(checkTimer);
      probeQueued?.();
      probeQueued = null;
      if (keepaliveTimer) clearTimeout(keepaliveTimer);
      await stream?.close();
    },
  };
}
