import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import { z } from 'zod';
import type { DoctorReads, KeyRestrictions, Read, SymbolSetting } from '../../core/doctor-checks.js';
import type { AccountCredentials } from '../../exchange/port.js';
import { rateHeadersOf } from '../../exchange/rate-budget.js';
import { toAvailableUsdt, toSymbolFilters } from '../../exchange/binance/mapping.js';
import type { StreamRoutes } from '../../exchange/binance/stream-routes.js';
import { bookStreamUrl, userStreamUrl } from '../../exchange/binance/stream-routes.js';

// The doctor's reads, strictly read-only: GETs only, except POST /fapi/v1/listenKey to test the private stream route,
// which is deleted again (DELETE /fapi/v1/listenKey) whatever happens. Binance hands out one listen key per account: if
// an engine is running on the same key its user stream is closed by that DELETE, and it reconnects and resyncs.
// Every read is bounded by `timeoutMs`; they run one after another (about 106 request weight in all).
// Endpoints, weights and fields (Binance):
// - GET /fapi/v1/time, 1: https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Check-Server-Time
// - GET /sapi/v1/account/apiRestrictions on the spot host (api.binance.com), 1: https://developers.binance.com/docs/wallet/account/api-key-permission
// - GET /fapi/v1/positionSide/dual, 30: https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Current-Position-Mode
// - GET /fapi/v1/multiAssetsMargin, 30: https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-Current-Multi-Assets-Mode
// - GET /fapi/v1/exchangeInfo, 1: https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Exchange-Information
// - GET /fapi/v1/feeBurn, 30: https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Get-BNB-Burn-Status
// - GET /fapi/v1/symbolConfig, 5 (symbol, marginType, leverage per symbol): https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Symbol-Config
// - GET /fapi/v3/balance, 5: https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/Futures-Account-Balance-V3
// - POST/DELETE /fapi/v1/listenKey, 1 each: https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams/Start-User-Data-Stream
// - X-MBX-USED-WEIGHT-1M on every response: https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info

export interface DoctorTarget {
  restBaseUrl: string;
  /** Where /sapi lives: Binance's spot host, or the simulator itself. */
  spotRestBaseUrl: string;
  wsBaseUrl: string;
  streamRoutes: StreamRoutes;
  credentials: AccountCredentials;
  symbols: readonly string[];
  /** Bound of each read (HTTP request or stream probe), ms. */
  timeoutMs: number;
  recvWindowMs: number;
  /** This host's clock (injected in tests to play a skewed host). */
  nowMs: () => number;
}

/** How long an opened user-data connection must stay open to count as reachable (a refused key closes it at once). */
const privateStreamSettleMs = 300;

const httpStatusRateLimited = 429;
const httpStatusBanned = 418;

const restrictionsSchema = z.object({
  ipRestrict: z.boolean(),
  enableReading: z.boolean(),
  enableFutures: z.boolean(),
  enableWithdrawals: z.boolean(),
  enableInternalTransfer: z.boolean().default(false),
  permitsUniversalTransfer: z.boolean().default(false),
});
const symbolConfigSchema = z.array(z.object({ symbol: z.string(), marginType: z.string(), leverage: z.coerce.number() }));

class DoctorHttp {
  usedWeight1m: number | null = null;
  rateLimited = false;
  /** Exchange clock minus ours, once measured: signed requests are stamped on the exchange's clock. */
  offsetMs = 0;

  constructor(private readonly target: DoctorTarget) {}

  async call(
    base: 'futures' | 'spot',
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    security: 'NONE' | 'USER_STREAM' | 'SIGNED',
    params: Record<string, string> = {},
  ): Promise<Read<unknown>> {
    const t = this.target;
    const query = new URLSearchParams(params);
    if (security === 'SIGNED') {
      query.set('recvWindow', String(t.recvWindowMs));
      query.set('timestamp', String(Math.round(t.nowMs() + this.offsetMs)));
      query.set('signature', createHmac('sha256', t.credentials.apiSecret).update(query.toString()).digest('hex'));
    }
    const text = query.toString();
    const url = `${base === 'spot' ? t.spotRestBaseUrl : t.restBaseUrl}${path}${text === '' ? '' : `?${text}`}`;
    try {
      const res = await fetch(url, {
        method,
        headers: security === 'NONE' ? {} : { 'X-MBX-APIKEY': t.credentials.apiKey },
        signal: AbortSignal.timeout(t.timeoutMs),
      });
      // The spot host counts weight against its own limit: only the futures host's count is this venue's headroom.
      if (base === 'futures') this.recordWeight(res.headers);
      if (res.status === httpStatusRateLimited || res.status === httpStatusBanned) this.rateLimited = true;
      const body: unknown = JSON.parse(await res.text());
      if (res.ok) return { ok: true, value: body };
      const err = body as { code?: unknown; msg?: unknown };
      return { ok: false, error: `HTTP ${res.status} ${String(err.code ?? '')} ${String(err.msg ?? '')}`.trim() };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { ok: false, error: timedOut ? `no answer within ${t.timeoutMs} ms` : error instanceof Error ? error.message : String(error) };
    }
  }

  private recordWeight(headers: Headers): void {
    const used = rateHeadersOf(Object.fromEntries(headers.entries())).usedWeight1m;
    if (used !== undefined) this.usedWeight1m = Math.max(this.usedWeight1m ?? 0, used);
  }
}

function parsed<T>(read: Read<unknown>, parse: (raw: unknown) => T): Read<T> {
  if (!read.ok) return read;
  try {
    return { ok: true, value: parse(read.value) };
  } catch (error) {
    return { ok: false, error: `unreadable answer: ${error instanceof Error ? error.message.slice(0, 200) : String(error)}` };
  }
}

/** Opens `url`; resolves with ms until `until` happened (first message, or open then still open after a settle time). */
function probeStream(url: string, until: 'message' | 'open-and-stay', timeoutMs: number, nowMs: () => number): Promise<Read<number>> {
  const start = nowMs();
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let settled = false;
    const finish = (result: Read<number>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, error: `nothing within ${timeoutMs} ms` }), timeoutMs);
    ws.on('unexpected-response', (_req, res) => finish({ ok: false, error: `upgrade refused: HTTP ${res.statusCode ?? '?'}` }));
    ws.on('error', (error) => finish({ ok: false, error: error.message }));
    ws.on('close', (code) => finish({ ok: false, error: `closed by the server (code ${code})` }));
    ws.on('message', () => {
      if (until === 'message') finish({ ok: true, value: nowMs() - start });
    });
    ws.on('open', () => {
      const openedMs = nowMs() - start;
      if (until === 'open-and-stay') setTimeout(() => finish({ ok: true, value: openedMs }), privateStreamSettleMs);
    });
  });
}

async function privateStream(http: DoctorHttp, target: DoctorTarget): Promise<Read<{ openedMs: number }>> {
  const created = parsed(await http.call('futures', 'POST', '/fapi/v1/listenKey', 'USER_STREAM'), (raw) => z.object({ listenKey: z.string() }).parse(raw));
  if (!created.ok) return { ok: false, error: `POST /fapi/v1/listenKey failed (${created.error})` };
  try {
    const opened = await probeStream(
      userStreamUrl(target.wsBaseUrl, created.value.listenKey, target.streamRoutes),
      'open-and-stay',
      target.timeoutMs,
      target.nowMs,
    );
    return opened.ok ? { ok: true, value: { openedMs: opened.value } } : opened;
  } finally {
    await http.call('futures', 'DELETE', '/fapi/v1/listenKey', 'USER_STREAM');
  }
}

/** Every read the checks need, one after another, each bounded. */
export async function readDoctorFacts(target: DoctorTarget): Promise<DoctorReads> {
  const http = new DoctorHttp(target);
  const before = target.nowMs();
  const time = await http.call('futures', 'GET', '/fapi/v1/time', 'NONE');
  const after = target.nowMs();
  const clock = parsed(time, (raw) => {
    const { serverTime } = z.object({ serverTime: z.number() }).parse(raw);
    return { offsetMs: Math.round(serverTime - (before + after) / 2), roundTripMs: after - before };
  });
  if (clock.ok) http.offsetMs = clock.value.offsetMs;

  const keyRestrictions: Read<KeyRestrictions> = parsed(await http.call('spot', 'GET', '/sapi/v1/account/apiRestrictions', 'SIGNED'), (raw) =>
    restrictionsSchema.parse(raw),
  );
  const positionMode = parsed(await http.call('futures', 'GET', '/fapi/v1/positionSide/dual', 'SIGNED'), (raw) =>
    z.object({ dualSidePosition: z.boolean() }).parse(raw),
  );
  const multiAssets = parsed(await http.call('futures', 'GET', '/fapi/v1/multiAssetsMargin', 'SIGNED'), (raw) =>
    z.object({ multiAssetsMargin: z.boolean() }).parse(raw),
  );
  const info = await http.call('futures', 'GET', '/fapi/v1/exchangeInfo', 'NONE');
  // Read as the engine reads it: its refusal (a symbol not listed, or margined in another asset) is the check's answer.
  let tradingRules: Read<{ symbols: number }>;
  if (!info.ok) tradingRules = { ok: false, error: `GET /fapi/v1/exchangeInfo failed (${info.error})` };
  else {
    try {
      tradingRules = { ok: true, value: { symbols: Object.keys(toSymbolFilters(info.value, target.symbols)).length } };
    } catch (error) {
      tradingRules = { ok: false, error: error instanceof Error ? (error.message.split('\n')[0]?.slice(0, 300) ?? 'unreadable') : String(error) };
    }
  }
  const feeBurn = parsed(await http.call('futures', 'GET', '/fapi/v1/feeBurn', 'SIGNED'), (raw) => z.object({ feeBurn: z.boolean() }).parse(raw));
  const symbolSettings: Read<SymbolSetting[]> = parsed(await http.call('futures', 'GET', '/fapi/v1/symbolConfig', 'SIGNED'), (raw) =>
    symbolConfigSchema.parse(raw),
  );
  const availableUsdt = parsed(await http.call('futures', 'GET', '/fapi/v3/balance', 'SIGNED'), toAvailableUsdt);

  const streams = target.symbols.slice(0, 1).map((s) => `${s.toLowerCase()}@bookTicker`);
  const publicProbe = await probeStream(bookStreamUrl(target.wsBaseUrl, streams, target.streamRoutes), 'message', target.timeoutMs, target.nowMs);
  const publicStream: Read<{ firstMessageMs: number }> = publicProbe.ok ? { ok: true, value: { firstMessageMs: publicProbe.value } } : publicProbe;
  const privateRead = await privateStream(http, target);

  return {
    clock,
    keyRestrictions,
    positionMode,
    multiAssets,
    feeBurn,
    tradingRules,
    symbolSettings,
    availableUsdt,
    publicStream,
    privateStream: privateRead,
    usedWeight1m: http.usedWeight1m,
    rateLimited: http.rateLimited,
  };
}
