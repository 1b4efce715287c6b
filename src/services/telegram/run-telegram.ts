import { run } from '@grammyjs/runner';
import type { RunnerHandle } from '@grammyjs/runner';
import { readEnv } from '../../config/env.js';
import { openLog } from '../../log/open.js';
import { clusterChoiceOf, openPartitionLogs } from '../../log/partition-logs.js';
import type { EngineLog } from '../../log/port.js';
import type { PartitionLogs } from '../../log/command-router.js';
import { everyPartitionLog, singlePartition } from '../../log/command-router.js';
import { openKeyStore } from '../../secrets/key-store.js';
import { keyVaultFromEnv } from '../../secrets/key-vault.js';
import { listenForStop, parseFlags } from '../../util/args.js';
import type { Logger } from '../../util/logger.js';
import { createLogger } from '../../util/logger.js';
import type { BotKeyVault } from './bot.js';
import { createTelegramBot } from './bot.js';
import { createActionKeyboard } from './keyboard.js';
import type { TelegramAccess } from './config.js';
import { telegramConfigFromEnv } from './config.js';
import { menuCommands } from './messages.js';
import { createRateLimiter } from './rate-limit.js';
import type { RelayOptions } from './relay.js';
import { createViewMemory, startOutboundRelay } from './relay.js';
import { createFanOutGate } from './fan-out.js';
import { safeError } from './safe-error.js';
import { createDigests } from './notify.js';
import type { NotifyStore } from './notify-store.js';
import { createNotifySettings, memoryNotifyStore, openNotifyStore } from './notify-store.js';

// `quant-engine telegram`: the bot (commands in) and the outbound relay (replies and alerts out), sharing
// nothing with the engine but the log.

/** getUpdates long-poll timeout: Telegram holds the request this long when there is nothing to deliver. */
export const pollTimeoutSeconds = 30;
/** The runner keeps retrying a failing getUpdates this long before giving up (and the bot stops). */
export const maxPollRetryMs = 15 * 60 * 60 * 1_000;

export interface TelegramBotOptions {
  /** The log (one partition: today's deployment); with `partitions`, any one of them (only `partitions` is used). */
  log: EngineLog;
  /** Every partition of a cluster deployment: commands are routed, fills read, and every outbound stream relayed. */
  partitions?: PartitionLogs<EngineLog>;
  token: string;
  apiRoot: string;
  access: TelegramAccess;
  vault: BotKeyVault | null;
  logger: Logger;
  clock?: () => number;
  pollTimeoutSeconds?: number;
  relay?: Pick<RelayOptions, 'batchEntries' | 'blockMs' | 'retryMs'>;
  /** Where /notify settings rest (notify-store.ts); absent: memory (tests, a bot without a store). */
  notifyStore?: NotifyStore;
  /** The update runner died (e.g. the token was revoked): the process should exit. */
  onFatal?: (error: unknown) => void;
}

/** Start-up failed; `refused` when the Bot API refused the token (retrying cannot help), else a reachability problem. */
export class TelegramStartError extends Error {
  constructor(
    message: string,
    readonly refused: boolean,
  ) {
    super(message);
    this.name = 'TelegramStartError';
  }
}

export interface TelegramBotHandle {
  stop(): Promise<void>;
}

export async function startTelegramBot(opts: TelegramBotOptions): Promise<TelegramBotHandle> {
  const { logger } = opts;
  const secrets = [opts.token];
  const clock = opts.clock ?? Date.now;
  const views = createViewMemory();
  const notify = createNotifySettings(opts.notifyStore ?? memoryNotifyStore());
  const digests = createDigests();
  const keyboard = createActionKeyboard(opts.token);
  const tg = createTelegramBot({
    keyboard,
    notify,
    digests,
    token: opts.token,
    apiRoot: opts.apiRoot,
    access: opts.access,
    log: opts.log,
    ...(opts.partitions && { partitions: opts.partitions }),
    vault: opts.vault,
    logger,
    limiter: createRateLimiter(opts.access.ratePerMin, clock),
    views,
    clock,
  });
  const { bot } = tg;
  try {
    // One getMe of our own rather than bot.init(), which retries a network error with backoff for ever: an
    // unreachable API must come back to the caller (who decides when to retry and says so), not hang start-up.
    bot.botInfo = await bot.api.getMe();
    await bot.api.deleteWebhook(); // long polling and a webhook exclude each other
    await bot.api.setMyCommands(menuCommands());
  } catch (error) {
    const safe = safeError(error, secrets);
    // 401: the token was refused; 404: not a token's shape (the Bot API answers Not Found). Retrying cannot help.
    const refused = safe.errorCode === 401 || safe.errorCode === 404;
    throw new TelegramStartError(`telegram start-up failed: ${safe.message}`, refused);
  }
  // Admins see the admin commands in their menu too (best effort: needs a chat with the bot).
  const adminMenu = menuCommands(true);
  for (const adminId of opts.access.adminIds) {
    await bot.api.setMyCommands(adminMenu, { scope: { type: 'chat', chat_id: Number(adminId) } }).catch((error: unknown) => {
      logger.debug({ adminId, err: safeError(error, secrets) }, 'admin command menu not set');
    });
  }
  logger.info({ bot: bot.botInfo.username, users: opts.access.userIds.length, admins: opts.access.adminIds.length }, 'telegram bot started');

  const runner: RunnerHandle = run(bot, {
    runner: {
      fetch: { timeout: opts.pollTimeoutSeconds ?? pollTimeoutSeconds, allowed_updates: ['message', 'callback_query'] },
      silent: true,
      maxRetryTime: maxPollRetryMs,
    },
  });
  let stopping = false;
  runner.task()?.catch((error: unknown) => {
    if (stopping) return;
    logger.error({ err: safeError(error, secrets) }, 'telegram update runner stopped');
    opts.onFatal?.(error);
  });

  // One relay per partition: each partition's engine writes its own outbound stream (a user's replies and alerts all
  // come from the user's partition; a fan-out's come from each).
  const outboundLogs = await everyPartitionLog(opts.partitions ?? singlePartition(opts.log));
  const fanOutGate = createFanOutGate(outboundLogs.length);
  const relays = outboundLogs.map((log, source) =>
    startOutboundRelay({
      log,
      ...(outboundLogs.length > 1 && { fanOut: { source, gate: fanOutGate } }),
      views,
      logger,
      secrets,
      clock,
      notify,
      digests,
      keyboard,
      async send(chatId, text, signal, silent, markup) {
        // grammY types its signal as the abort-controller polyfill's; node-fetch takes the native one.
        // Relayed texts are Telegram HTML, every engine text in them escaped (format.ts, messages.ts).
        await bot.api.sendMessage(
          chatId,
          text,
          { parse_mode: 'HTML', ...(silent ? { disable_notification: true } : {}), ...(markup !== undefined ? { reply_markup: markup } : {}) },
          signal as unknown as Parameters<typeof bot.api.sendMessage>[3],
        );
      },
      ...opts.relay,
    }),
  );

  return {
    async stop() {
      stopping = true;
      if (runner.isRunning()) await runner.stop();
      await tg.settle();
      // Confirm what was handled, so the next start does not get those updates again.
      const last = tg.lastHandledUpdateId();
      if (last !== null) {
        await bot.api.getUpdates({ offset: last + 1, limit: 1, timeout: 0 }).catch((error: unknown) => {
          logger.warn({ err: safeError(error, secrets) }, 'could not confirm the last updates; they may be handled again');
        });
      }
      await Promise.all(relays.map((relay) => relay.stop()));
      logger.info('telegram bot stopped');
    },
  };
}

/**
 * The bot as a service on a log: configuration from the environment, its own key store beside the log.
 * `quant-engine telegram` runs it alone; `all` runs it in process when TELEGRAM_BOT_TOKEN is set.
 */
export async function startTelegramService(
  log: EngineLog,
  where: { redisUrl?: string | undefined; redisPrefix: string; sqlitePath: string },
  logger: Logger,
  onFatal?: (error: unknown) => void,
  partitions?: PartitionLogs<EngineLog>,
): Promise<TelegramBotHandle> {
  const config = telegramConfigFromEnv(process.env);
  if (config.access.userIds.length === 0 && config.access.adminIds.length === 0) {
    logger.warn('QE_TELEGRAM_USER_IDS and QE_TELEGRAM_ADMIN_IDS are empty: the bot will refuse everyone');
  }
  const keyStore = await openKeyStore(where);
  const notifyStore = await openNotifyStore(where).catch(async (error: unknown) => {
    await keyStore.close();
    throw error;
  });
  const vault = keyVaultFromEnv(keyStore);
  if (!vault.enabled) logger.warn('no master key (QE_MASTER_KEY): /connect will refuse to store keys');
  const bot = await startTelegramBot({
    log,
    ...(partitions && { partitions }),
    token: config.token,
    apiRoot: config.apiRoot,
    access: config.access,
    vault,
    logger,
    notifyStore,
    ...(onFatal ? { onFatal } : {}),
  }).catch(async (error: unknown) => {
    await keyStore.close();
    await notifyStore.close();
    throw error;
  });
  return {
    async stop() {
      await bot.stop();
      await keyStore.close();
      await notifyStore.close();
    },
  };
}

/** `quant-engine telegram [--redis-url U] [--redis-prefix P] [--sqlite-path F] [--cluster-urls U,… --partitions P]`. */
export async function runTelegram(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  // Before the setup: a signal during it stops the service once set up, cleanly (util/args.ts).
  const stop = listenForStop();
  const env = readEnv();
  const logger = createLogger('telegram');
  const where = {
    redisUrl: flags['redis-url'] ?? env.REDIS_URL,
    redisPrefix: flags['redis-prefix'] ?? env.QE_REDIS_PREFIX,
    sqlitePath: flags['sqlite-path'] ?? env.QE_SQLITE_PATH,
  };
  // On a Redis Cluster (`--cluster-urls`, `--partitions`) the bot reads and routes over every partition; its key and
  // /notify stores stay on `--redis-url` (or the SQLite file), as the workers' rate budget does.
  const cluster = clusterChoiceOf(flags, env, where.redisPrefix);
  const partitions = cluster ? openPartitionLogs(cluster) : null;
  const log = partitions ? await partitions.log(0) : await openLog(where);
  await log.init();
  let fatal: ((why: string) => void) | null = null;
  const died = new Promise<string>((resolve) => (fatal = resolve));
  const handle = await startTelegramService(log, where, logger, () => fatal?.('update runner died'), partitions ?? undefined);
  process.stdout.write(`${JSON.stringify({ ready: true, service: 'telegram' })}\n`);
  const why = await Promise.race([stop.until(env.QE_RUN_SECONDS), died]);
  logger.info({ why }, 'stopping');
  await handle.stop();
  if (partitions) await partitions.close();
  else await log.close();
  if (why === 'update runner died') process.exitCode = 1;
}
