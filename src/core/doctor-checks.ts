import { div, gte, isZero, lt, mul, toDecimal } from '../model/decimal.js';
import type { Decimal } from '../model/decimal.js';

// `quant-engine doctor`'s decisions, pure: from what the shell read (src/services/doctor/doctor-reads.ts), one line
// per check with ok / warn / fail and what to fix. Nothing here reads a clock or the network.

export type Verdict = 'ok' | 'warn' | 'fail';

export interface CheckLine {
  verdict: Verdict;
  check: string;
  detail: string;
}

/** A read the shell made: its value, or why it failed (an error text, an exchange code and message, a timeout). */
export type Read<T> = { ok: true; value: T } | { ok: false; error: string };

/** GET /sapi/v1/account/apiRestrictions (https://developers.binance.com/docs/wallet/account/api-key-permission). */
export interface KeyRestrictions {
  ipRestrict: boolean;
  enableReading: boolean;
  enableFutures: boolean;
  enableWithdrawals: boolean;
  enableInternalTransfer: boolean;
  permitsUniversalTransfer: boolean;
}

/** One symbol's row of GET /fapi/v1/symbolConfig. */
export interface SymbolSetting {
  symbol: string;
  marginType: string;
  leverage: number;
}

export interface DoctorReads {
  /** Exchange clock minus ours (GET /fapi/v1/time, half the round trip assumed each way), and that round trip. */
  clock: Read<{ offsetMs: number; roundTripMs: number }>;
  keyRestrictions: Read<KeyRestrictions>;
  positionMode: Read<{ dualSidePosition: boolean }>;
  multiAssets: Read<{ multiAssetsMargin: boolean }>;
  feeBurn: Read<{ feeBurn: boolean }>;
  /**
   * The traded symbols' trading rules as the engine reads them (GET /fapi/v1/exchangeInfo through toSymbolFilters): how
   * many, or why the engine could not use them (a symbol not listed, or margined in another asset than USDT).
   */
  tradingRules: Read<{ symbols: number }>;
  symbolSettings: Read<SymbolSetting[]>;
  /** USDT available for new margin (GET /fapi/v3/balance), a decimal string. */
  availableUsdt: Read<string>;
  /** The book-ticker route (/public): ms until the first message. */
  publicStream: Read<{ firstMessageMs: number }>;
  /** The user-data route (/private?listenKey=): ms until the connection opened. */
  privateStream: Read<{ openedMs: number }>;
  /** The highest X-MBX-USED-WEIGHT-1M the exchange reported during the run (null: never sent), and any 429/418 seen. */
  usedWeight1m: number | null;
  rateLimited: boolean;
}

export interface DoctorLimits {
  symbols: readonly string[];
  /** The exchange leverage sessions trade at (CoreConfig.defaultSessionLeverage, or what the user asks for). */
  sessionLeverage: number;
  /** Gross exposure as a multiple of capital (CoreConfig.maxLeverage). */
  maxLeverage: number;
  /** A capital to size the balance check against (null: any positive balance is ok). */
  capitalUsd: number | null;
  /** Offsets beyond this are warned: the engine compensates, but a drifting host clock shifts horizons and stale checks. */
  clockWarnOffsetMs: number;
  /** Offsets beyond this fail: a signed request stamped with this clock falls outside recvWindow until resynced. */
  clockFailOffsetMs: number;
  /** Binance's request-weight limit per minute and IP, and the share kept for flattens (src/exchange/rate-budget.ts). */
  weightPerMinute: number;
  reservedForRiskReducingWeight: number;
}

const line = (verdict: Verdict, check: string, detail: string): CheckLine => ({ verdict, check, detail });

/** Every check's line, in a fixed order. */
export function decideChecks(reads: DoctorReads, limits: DoctorLimits): CheckLine[] {
  return [
    clockLine(reads.clock, limits),
    ...keyLines(reads.keyRestrictions),
    positionModeLine(reads.positionMode),
    multiAssetsLine(reads.multiAssets),
    feeBurnLine(reads.feeBurn),
    rulesLine(reads.tradingRules),
    ...symbolLines(reads.symbolSettings, limits),
    balanceLine(reads.availableUsdt, limits),
    streamLine('stream /public', reads.publicStream, (v) => `book tickers flowing (first message after ${v.firstMessageMs} ms)`),
    streamLine('stream /private', reads.privateStream, (v) => `user-data route reachable (opened in ${v.openedMs} ms; listen key created and deleted)`),
    rateLine(reads, limits),
  ];
}

/** 0 when every line is ok or warn, 1 on any fail. */
export function exitCodeOf(lines: readonly CheckLine[]): 0 | 1 {
  return lines.some((l) => l.verdict === 'fail') ? 1 : 0;
}

export function formatLine(l: CheckLine): string {
  return `${l.verdict.padEnd(5)} ${l.check.padEnd(22)} ${l.detail}`;
}

function clockLine(read: DoctorReads['clock'], limits: DoctorLimits): CheckLine {
  const check = 'clock offset';
  if (!read.ok) return line('fail', check, `GET /fapi/v1/time failed (${read.error}): the exchange is unreachable from here`);
  const { offsetMs, roundTripMs } = read.value;
  const size = Math.abs(offsetMs);
  const what = `this host is ${size} ms ${offsetMs > 0 ? 'behind' : 'ahead of'} the exchange (round trip ${roundTripMs} ms)`;
  if (size > limits.clockFailOffsetMs) {
    return line('fail', check, `${what}: beyond recvWindow, signed requests are refused (-1021) until resynced; sync the host clock (NTP, e.g. chrony)`);
  }
  if (size > limits.clockWarnOffsetMs) return line('warn', check, `${what}: the engine compensates, but sync the host clock (NTP)`);
  return line('ok', check, what);
}

function keyLines(read: Read<KeyRestrictions>): CheckLine[] {
  if (!read.ok) {
    return [line('fail', 'api key', `GET /sapi/v1/account/apiRestrictions failed (${read.error}): check the key, its secret and its IP whitelist`)];
  }
  const k = read.value;
  const editKey = 'Binance → API Management → Edit restrictions';
  return [
    k.enableFutures && k.enableReading
      ? line('ok', 'api key trading', 'reading and futures trading enabled')
      : line(
          'fail',
          'api key trading',
          `${k.enableFutures ? '' : 'futures trading is disabled; '}${k.enableReading ? '' : 'reading is disabled; '}enable them (${editKey})`,
        ),
    k.enableWithdrawals
      ? line('fail', 'api key withdrawals', `withdrawals are enabled on this key: a leaked key could empty the account; disable them (${editKey})`)
      : line('ok', 'api key withdrawals', 'withdrawals disabled'),
    k.enableInternalTransfer || k.permitsUniversalTransfer
      ? line(
          'warn',
          'api key transfers',
          `the key can move funds between accounts (${k.enableInternalTransfer ? 'internal transfer' : 'universal transfer'}); the engine never needs it: disable it`,
        )
      : line('ok', 'api key transfers', 'transfers disabled'),
    k.ipRestrict
      ? line('ok', 'api key ip', 'restricted to trusted IPs')
      : line('warn', 'api key ip', `usable from any IP; restrict it to this server's IP (${editKey})`),
  ];
}

/** An account-wide switch the engine needs off: fail with the fix when it is on. */
function switchLine(check: string, path: string, read: Read<boolean>, whenOn: string, whenOff: string): CheckLine {
  if (!read.ok) return line('fail', check, `GET ${path} failed (${read.error})`);
  return read.value ? line('fail', check, whenOn) : line('ok', check, whenOff);
}

const positionModeLine = (read: DoctorReads['positionMode']): CheckLine =>
  switchLine(
    'position mode',
    '/fapi/v1/positionSide/dual',
    read.ok ? { ok: true, value: read.value.dualSidePosition } : read,
    'hedge mode (dual-side positions); the engine books one position per symbol: switch to one-way (POST /fapi/v1/positionSide/dual dualSidePosition=false, with no open position or order)',
    'one-way',
  );

const multiAssetsLine = (read: DoctorReads['multiAssets']): CheckLine =>
  switchLine(
    'multi-assets mode',
    '/fapi/v1/multiAssetsMargin',
    read.ok ? { ok: true, value: read.value.multiAssetsMargin } : read,
    'multi-assets margin is on; the engine margins in USDT only: switch to single-asset (POST /fapi/v1/multiAssetsMargin multiAssetsMargin=false)',
    'single-asset (USDT) margin',
  );

/** Whether the engine can read the traded symbols' rules: without them it refuses every live session on those symbols. */
function rulesLine(read: DoctorReads['tradingRules']): CheckLine {
  const check = 'trading rules';
  if (!read.ok) return line('fail', check, `${read.error}: live sessions are refused until QE_SYMBOLS lists only symbols the engine can trade`);
  return line('ok', check, `every traded symbol listed and margined in USDT (${read.value.symbols})`);
}

const feeBurnLine = (read: DoctorReads['feeBurn']): CheckLine =>
  switchLine(
    'BNB fee discount',
    '/fapi/v1/feeBurn',
    read.ok ? { ok: true, value: read.value.feeBurn } : read,
    'on: fees are paid in BNB whenever the futures wallet holds some, and the engine books fees in USDT only (a session start is refused): switch it off (POST /fapi/v1/feeBurn feeBurn=false)',
    'off (fees in USDT)',
  );

function symbolLines(read: Read<SymbolSetting[]>, limits: DoctorLimits): CheckLine[] {
  if (!read.ok) return [line('fail', 'leverage / margin', `GET /fapi/v1/symbolConfig failed (${read.error})`)];
  const bySymbol = new Map(read.value.map((s) => [s.symbol, s]));
  return limits.symbols.map((symbol) => {
    const check = `${symbol} settings`;
    const s = bySymbol.get(symbol);
    if (!s) return line('fail', check, `the exchange has no configuration for ${symbol}: is it listed? fix QE_SYMBOLS`);
    // A warning, not a failure: a session's start sets its leverage on every traded symbol before it trades, and is
    // refused if it cannot (services/execution/account-preflight.ts, applySettings), so nothing trades at this
    // leverage. It was a failure, and a fresh account (20x on every symbol) failed the doctor with nothing wrong.
    if (s.leverage > limits.sessionLeverage) {
      return line(
        'warn',
        check,
        `leverage ${s.leverage}x is above the session's ${limits.sessionLeverage}x (20x is a new account's default): each session start sets its leverage (${limits.sessionLeverage}x, or lower if its stop-loss needs it) before it trades, or is refused; to set it now: POST /fapi/v1/leverage symbol=${symbol} leverage=${limits.sessionLeverage}`,
      );
    }
    if (s.marginType.toUpperCase() !== 'CROSSED') {
      return line(
        'warn',
        check,
        `${s.marginType.toLowerCase()} margin at ${s.leverage}x; the engine trades cross and switches it at session start, which Binance refuses while a position or order is open on ${symbol}`,
      );
    }
    return line('ok', check, `cross margin, ${s.leverage}x (session ${limits.sessionLeverage}x)`);
  });
}

function balanceLine(read: Read<string>, limits: DoctorLimits): CheckLine {
  const check = 'balance';
  if (!read.ok) return line('fail', check, `GET /fapi/v3/balance failed (${read.error})`);
  const available = toDecimal(read.value);
  if (isZero(available) || lt(available, toDecimal(0))) return line('fail', check, 'no USDT available in the USDⓈ-M futures wallet: transfer USDT to it');
  if (limits.capitalUsd === null) return line('ok', check, `${read.value} USDT available`);
  const need: Decimal = div(mul(toDecimal(limits.capitalUsd), toDecimal(limits.maxLeverage)), toDecimal(limits.sessionLeverage), 8, 'ceil');
  return gte(available, need)
    ? line('ok', check, `${read.value} USDT available; a ${limits.capitalUsd} USD session needs ${need}`)
    : line(
        'fail',
        check,
        `${read.value} USDT available, below the ${need} USDT a ${limits.capitalUsd} USD session needs at ${limits.sessionLeverage}x: deposit, or start smaller`,
      );
}

function streamLine<T>(check: string, read: Read<T>, good: (value: T) => string): CheckLine {
  return read.ok ? line('ok', check, good(read.value)) : line('fail', check, `${read.error}: check QE_STREAM_ROUTES, the WS URL and any proxy or firewall`);
}

function rateLine(reads: DoctorReads, limits: DoctorLimits): CheckLine {
  const check = 'rate-limit headroom';
  if (reads.rateLimited)
    return line('fail', check, 'the exchange answered 429/418 (rate limited or banned): wait for Retry-After and find who else uses this IP');
  const used = reads.usedWeight1m;
  if (used === null) return line('warn', check, 'no X-MBX-USED-WEIGHT-1M header seen: the engine cannot track its request weight');
  const headroom = limits.weightPerMinute - used;
  const detail = `${used} of ${limits.weightPerMinute} weight used this minute (including this run's ~106)`;
  if (used >= limits.weightPerMinute - limits.reservedForRiskReducingWeight) {
    return line(
      'warn',
      check,
      `${detail}: within the ${limits.reservedForRiskReducingWeight} kept for flattens, entries would wait; is another process on this IP?`,
    );
  }
  return line('ok', check, `${detail}, ${headroom} left`);
}
