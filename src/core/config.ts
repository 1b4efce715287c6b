// Every bound the core enforces, with its unit in its name. The shell builds this from the environment.
export interface CoreConfig {
  /** No bookTicker for a symbol we hold for this long = stale feed: flatten and engage the kill switch. */
  staleFeedMs: number;
  /**
   * Entries, and the post-only fallback, are planned only on a quote younger than this: its age runs from the
   * exchange's time of the book state (bookTicker `T`, else `E`) where the stream carries it, and never from later
   * than its receipt. A quote this old is stale for pricing though not yet a dead feed (staleFeedMs): flattens still
   * go out (MARKET, bounded by the exchange's own PERCENT_PRICE against its mark, -4131), protective stops still rest.
   */
  entryQuoteMaxAgeMs: number;
  /** A command delivered more than this many times goes to the dead-letter stream. */
  maxDeliveries: number;
  /** Largest command entry accepted, in bytes of its JSON text. */
  maxCommandBytes: number;
  /** Post-only fallback: limit price bounded this far from mark, in basis points. */
  fallbackBoundBps: number;
  /** A resting entry order older than this is cancelled (the next signal re-plans it). */
  entryOrderTtlMs: number;
  /** An order whose send has had no answer for this long is treated as unknown and queried by id. */
  orderResultTimeoutMs: number;
  /** An unknown or open order is queried by client id at most this often. */
  orderQueryIntervalMs: number;
  /**
   * An order the exchange says it does not know is declared never-sent only after this long: until the
   * request's recvWindow has passed, a delayed copy could still arrive and be accepted.
   */
  orderNotFoundGraceMs: number;
  /**
   * An order is sent within this long of being planned, or not at all (a queue or a rate-limit wait can hold it):
   * sent later, it could reach the exchange after the grace above had declared it never sent, and trade
   * untracked. The shell checks that this plus the request's recvWindow fits within orderNotFoundGraceMs.
   */
  orderSendWindowMs: number;
  /**
   * After a rejected order, wait this long before sending the next one of its kind for that symbol; each
   * further rejection with the same code doubles the wait (see rejections.ts).
   */
  flattenRetryMs: number;
  /** The longest wait between attempts while the same rejection keeps recurring. */
  maxRejectionBackoffMs: number;
  /** How often each user's protective stops are checked to still rest on the exchange (and re-tried). */
  protectiveStopCheckMs: number;
  /** Same check for a session with nothing to protect (sweeps orphaned stops of ours). */
  protectiveStopIdleCheckMs: number;
  /**
   * Periodic stop checks (a listing of open algo orders per traded symbol, and a position read) started per
   * minute, over all sessions of the engine: with many sessions the checks come round less often instead of
   * using up the venue's request weight, which entries, order queries and flattens need. The longest-unchecked
   * sessions go first.
   */
  protectiveStopChecksPerMinute: number;
  /** Of those, how many may start at once at the top of a minute; the rest come evenly over the minute. */
  protectiveStopCheckBurst: number;
  /** A protective stop is moved when its ideal trigger drifts this far (basis points) from the resting one. */
  protectiveStopMoveBps: number;
  /** Each open session holding a position has its valuation published (an `equity` outbound event) this often. */
  equitySampleMs: number;
  /** Same for a flat session (its equity does not move). */
  equityIdleSampleMs: number;
  /**
   * Equity samples one decision publishes at most; sessions due beyond it are sampled by the beat's continuation (a
   * later step, after what waits), until none is due. Sessions started together fall due together: 1 000 summaries in
   * one timer beat took ~50 ms that ticks and a /stop waited. Until the continuation, those beyond waited for the next
   * beat, and fell behind for good once more fell due a second than a beat may sample (1 000 sessions holding: 200 a
   * second against 100, so each was sampled every 10 s instead of equitySampleMs).
   */
  maxEquitySamplesPerDecision: number;
  /**
   * Equity samples published in one second at most, continuations included: beyond it the rest wait for the next
   * beat, and a session's samples come less often than equitySampleMs. Samples are for display (the stop-loss is
   * checked on every tick without them), and each costs 20–60 µs of deciding and a summary on the outbound stream:
   * at 10 000 sessions holding, 2 000 fall due a second, and sampling them all took ~45 % more of the engine's CPU and
   * steps in the bench's sweep. 400 a second keeps 2 000 sessions holding at equitySampleMs.
   */
  maxEquitySamplesPerSecond: number;
  /**
   * Sessions one timer beat's risk pass and equity pass each visit at most (schedule.ts): those whose records changed
   * since the last beat, and those due. The rest stay queued and the beat continues in a later step (decide's
   * `continuation`), so a tick or a /stop is decided in between. At 10 000 sessions a signals.route changes every
   * session within its fan-out, and the next beat visited all of them in one step: 15–60 ms of deciding
   * (~7 µs a risk visit, bench/sweep.ts at 10 000 sessions), that ticks and commands waited behind.
   */
  maxSessionVisitsPerBeat: number;
  /**
   * Sessions the protective-stop pass (run after most inputs) visits at most in one decision; the rest stay queued for
   * the next decisions (a beat continues until none is left). Only a backlog reaches it: a halt, or the hourly filter
   * refresh, wakes every session at once (114 ms of one decision at 10 000 sessions).
   */
  maxStopPassVisitsPerDecision: number;
  /** Gross exposure limit as a multiple of session capital. */
  maxLeverage: number;
  /**
   * Exchange leverage a session's symbols are set to when its start command names none; the account preflight
   * lowers it when the stop-loss would otherwise lie beyond the liquidation price (src/core/preflight.ts).
   */
  defaultSessionLeverage: number;
  /** A held position whose mark comes this close (basis points of the mark) to its liquidation price is alerted and reduced. */
  liquidationAlertDistanceBps: number;
  /**
   * A funding read starts this long before the newest payment booked (ms), in case the exchange writes a payment
   * after a later one (funding-income.ts). It must hold fewer payments than a session remembers ids of (256): an
   * hour holds one a symbol at Binance's shortest funding interval; a simulator funding every millisecond needs less.
   */
  fundingLateRecordMarginMs: number;
  /**
   * A session holding a position has its funding history read at least this often (ms), at its periodic check
   * (protective-stops.ts), and once more when it closes: funding is booked from that history, and a read is otherwise
   * asked only by a funding push, a boot or a reported user-stream gap, so a push lost on a stream that went deaf
   * without a gap being noticed left its payment unbooked for good (the deterministic simulation, seed 200794 of its
   * cluster mode over 1 500 steps). Binance funds every 8 h, or 4 h / 1 h where it adjusted a symbol's interval
   * (fundingIntervalHours, https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Get-Funding-Info):
   * a payment missed is booked within one default interval. A read weighs 30: a thousand holders read every 8 h spend
   * ~60 of the IP's 2 400 a minute.
   */
  fundingBackstopMs: number;
  /**
   * Backstop funding reads started per minute, over all sessions: a boot reads every holder's funding at once, so
   * 8 h later a thousand come due together, and at the stop checks' pace (120 a minute, 30 weight each) they would
   * spend 3 600 weight a minute, more than the IP's 2 400. At 20 a minute (600 weight) a thousand take 50 minutes.
   */
  fundingBackstopReadsPerMinute: number;
  /** Processed command ids remembered for de-duplication (oldest forgotten first). */
  maxRememberedCommandIds: number;
  /** Terminal orders kept in state for inspection (oldest dropped first). */
  maxTerminalOrdersKept: number;
  /** Live trading needs this (LIVE_TRADING=1) and the user on the approved list. */
  liveTradingEnabled: boolean;
  liveApprovedUserIds: readonly string[];
  /** Users allowed to send admin.* commands. */
  adminUserIds: readonly string[];
  /** Users allowed to send signals.route (signal producers). */
  signalSourceIds: readonly string[];
  /**
   * Users one engine step of a signals.route handles (users): a route to more goes on in later steps, so a
   * /stop or a halt arriving meanwhile is decided between them instead of waiting behind the whole fan-out. 20: a
   * route that sets users' targets costs 240–300 µs of decide a user (bench/core-scale.ts), 6 ms a step; at 50 the
   * 1 000-session sweep's slowest step was 28–57 ms (five runs), at 20 it was 20–38 ms, at the same CPU.
   */
  maxUsersPerRouteStep: number;
  /**
   * A signals.route whose producer stamped it (issuedAtMs) longer ago than this when its route begins is refused, not
   * traded (ms): routes appended while the engine was down (or behind) wait in the command stream, and traded after a
   * restart they moved positions to targets hours old. The next route carries the newest targets. A route without
   * the stamp (an external producer's, the backtest's) is traded whatever its age.
   */
  maxSignalAgeMs: number;
  /** Symbols the engine trades (others are rejected). */
  symbols: readonly string[];
}

export const defaultCoreConfig: CoreConfig = {
  staleFeedMs: 30_000,
  entryQuoteMaxAgeMs: 3_000,
  maxDeliveries: 5,
  maxCommandBytes: 64 * 1024,
  fallbackBoundBps: 15,
  entryOrderTtlMs: 30_000,
  // A minute: the reference signals service routes every few seconds, and a restart that drains its backlog takes
  // seconds; a producer's clock more than this behind the engine's would have every route refused, each with its age.
  maxSignalAgeMs: 60_000,
  orderResultTimeoutMs: 15_000,
  orderQueryIntervalMs: 5_000,
  orderNotFoundGraceMs: 10_000,
  orderSendWindowMs: 5_000,
  flattenRetryMs: 2_000,
  maxRejectionBackoffMs: 60_000,
  protectiveStopCheckMs: 5_000,
  protectiveStopIdleCheckMs: 60_000,
  // A check weighs 5 (positionRisk) + 1 per symbol (openAlgoOrders with a symbol), 8 with three symbols: 120 a
  // minute is 960 of the 2 400 request weight an IP has per minute (src/engine/request-costs.ts has the sources).
  protectiveStopChecksPerMinute: 120,
  protectiveStopCheckBurst: 20,
  protectiveStopMoveBps: 20,
  equitySampleMs: 5_000,
  equityIdleSampleMs: 60_000,
  maxEquitySamplesPerDecision: 40,
  maxEquitySamplesPerSecond: 400,
  // ~3–4 ms of deciding per pass at 10 000 sessions; never reached below 500 sessions. 150 was tried (a beat at 1 000
  // sessions decides for 6–10 ms): at 10 000 sessions the sweep then took 20–35 % more steps and ~40 % more CPU for the
  // same work, and its slowest steps grew.
  maxSessionVisitsPerBeat: 500,
  maxStopPassVisitsPerDecision: 500,
  maxLeverage: 1,
  defaultSessionLeverage: 5,
  liquidationAlertDistanceBps: 100,
  fundingLateRecordMarginMs: 60 * 60 * 1000,
  fundingBackstopMs: 8 * 60 * 60 * 1000,
  fundingBackstopReadsPerMinute: 20,
  maxRememberedCommandIds: 100_000,
  maxTerminalOrdersKept: 1_000,
  liveTradingEnabled: false,
  liveApprovedUserIds: [],
  adminUserIds: ['operator'],
  signalSourceIds: ['signals'],
  maxUsersPerRouteStep: 20,
  symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'],
};

/** The config's traded symbols, each once in their order, and as a set: per (immutable) list, not per decision. */
const tradedMemo = new WeakMap<readonly string[], { list: readonly string[]; set: ReadonlySet<string> }>();

export function tradedSymbols(configured: readonly string[]): { list: readonly string[]; set: ReadonlySet<string> } {
  let known = tradedMemo.get(configured);
  if (known === undefined) {
    const set = new Set(configured);
    known = { list: [...set], set };
    tradedMemo.set(configured, known);
  }
  return known;
}
