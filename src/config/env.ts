import { z } from 'zod';
import type { CoreConfig } from '../core/config.js';
import { defaultCoreConfig } from '../core/config.js';

// Configuration comes from the environment (and CLI flags layered on top), parsed once with zod so a typo
// fails at start-up with a clear message instead of trading on a default nobody chose.

const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0),
);
const intMs = z.coerce.number().int().positive();
/** Telegram user ids: decimal numbers, comma-separated. */
export const telegramIdList = list.pipe(z.array(z.string().regex(/^\d{1,20}$/, 'Telegram user ids are numbers')));

export const envSchema = z.object({
  /** Redis URL: use Redis Streams for the log. Absent: embedded SQLite. */
  REDIS_URL: z.string().url().optional(),
  QE_REDIS_PREFIX: z.string().default(''),
  /** Root nodes of a Redis Cluster holding a partitioned log (issue 13); absent: REDIS_URL or SQLite, one partition. */
  QE_REDIS_CLUSTER_URLS: list.pipe(z.array(z.string().url())).optional(),
  /** Partitions of the log on the cluster (fixed at deployment: changing it moves users between partitions). */
  QE_PARTITIONS: z.coerce.number().int().min(1).max(1_024).default(1),
  QE_SQLITE_PATH: z.string().default('data/quant-engine.db'),
  /** Exchange the paper sessions trade on (the simulator). */
  QE_PAPER_REST_URL: z.string().url().optional(),
  QE_PAPER_WS_URL: z.string().optional(),
  /** Live trading is off unless explicitly enabled here AND the user is approved. */
  LIVE_TRADING: z.enum(['0', '1']).default('0'),
  QE_LIVE_REST_URL: z.string().url().default('https://fapi.binance.com'),
  QE_LIVE_WS_URL: z.string().default('wss://fstream.binance.com'),
  /** WebSocket stream routes: Binance's current split ones, or the retired legacy paths for a venue that still has them. */
  QE_STREAM_ROUTES: z.enum(['split', 'legacy']).default('split'),
  /**
   * Where the exchange accounts run (`all`, and `execution` on one log): `main`, the engine's thread (a cluster worker
   * always does), or `worker`, their own thread, so HTTP and user-stream parsing run beside the engine's steps. Not the
   * default: on this 2-core machine the worker measured no better tick, step or event-loop figures at 10 000 sessions
   * and ~450–650 MB more memory (RSS 1.1–1.2 GB, over the 1 GB target; issue 12); a machine with cores to spare may
   * differ (npm run bench:sweep with BENCH_SWEEP=10000 measures it).
   */
  QE_ADAPTER_THREAD: z.enum(['worker', 'main']).default('main'),
  QE_LIVE_APPROVED_USERS: list.default([]),
  QE_ADMIN_IDS: list.default(['operator']),
  QE_SIGNAL_SOURCES: list.default(['signals']),
  QE_SYMBOLS: list.default(['BTCUSDT', 'ETHUSDT', 'SOLUSDT']),
  QE_STALE_FEED_MS: intMs.default(30_000),
  QE_WATCHDOG_PERIOD_MS: intMs.default(1_000),
  QE_MAX_DELIVERIES: intMs.default(5),
  QE_REST_TIMEOUT_MS: intMs.default(3_000),
  QE_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  QE_SIM_SEED: z.coerce.number().int().default(42),
  QE_SIGNAL_PERIOD_MS: intMs.default(2_000),
  /** The strategy `all`'s signals run (src/strategies/live-choice.ts): the reference crossover, or a model's signal file replayed. */
  QE_STRATEGY: z.enum(['crossover', 'replay']).default('crossover'),
  QE_SIGNALS_FILE: z.string().optional(),
  QE_CROSSOVER_FAST: intMs.optional(),
  QE_CROSSOVER_SLOW: intMs.optional(),
  /** `all` starts a demo paper session for this user so a first run visibly trades; empty disables it. */
  QE_DEMO_USER: z.string().default('demo'),
  QE_DEMO_CAPITAL_USD: z.coerce.number().positive().default(10_000),
  QE_RUN_SECONDS: z.coerce.number().nonnegative().default(0),
  /** Telegram user ids (numbers) allowed to use the bot; their engine user id is `tg<id>`. */
  QE_TELEGRAM_USER_IDS: telegramIdList.default([]),
  /** Telegram admins: allowed too, and engine admins as `tg<id>`. */
  QE_TELEGRAM_ADMIN_IDS: telegramIdList.default([]),
});

export type Env = z.infer<typeof envSchema>;

/** Parses the environment with `schema`; the error names each variable and rule, never a value (tokens). */
export function parseEnvWith<S extends z.ZodType>(schema: S, source: NodeJS.ProcessEnv, what = 'configuration'): z.infer<S> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ');
    throw new Error(`invalid ${what}:\n  ${issues}`);
  }
  return parsed.data;
}

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  return parseEnvWith(envSchema, source);
}

/** The engine user id of a Telegram user: private chats have the user's id as chat id, so replies route back. */
export function telegramUserId(telegramId: string | number): string {
  return `tg${telegramId}`;
}

export function coreConfigFromEnv(env: Env): CoreConfig {
  return {
    ...defaultCoreConfig,
    staleFeedMs: env.QE_STALE_FEED_MS,
    maxDeliveries: env.QE_MAX_DELIVERIES,
    liveTradingEnabled: env.LIVE_TRADING === '1',
    liveApprovedUserIds: env.QE_LIVE_APPROVED_USERS,
    adminUserIds: [...env.QE_ADMIN_IDS, ...env.QE_TELEGRAM_ADMIN_IDS.map(telegramUserId)],
    signalSourceIds: env.QE_SIGNAL_SOURCES,
    symbols: env.QE_SYMBOLS,
  };
}
