import { setTimeout as sleep } from 'node:timers/promises';
import type { TelegramBotHandle } from '../telegram/run-telegram.js';
import { TelegramStartError } from '../telegram/run-telegram.js';

// `npm start` must trade and serve its dashboard whatever Telegram does: the bot starts beside the engine, an
// unreachable Bot API is retried with a visible line, a refused token disables the bot with a clear line, and a bot
// that dies later is reported, never taking the process down with it.

/** Wait before the first retry of an unreachable Bot API; doubles per failure up to the max. */
export const telegramRetryFirstMs = 5_000;
export const telegramRetryMaxMs = 300_000;
/** On shutdown, how long to wait for a start-up in flight (a call to an unreachable API lasts up to a minute). */
export const telegramStopWaitMs = 2_000;

export interface BackgroundTelegram {
  stop(): Promise<void>;
}

export interface BackgroundTelegramOptions {
  /** Starts the bot; `onFatal` is called if its update runner dies later (e.g. the token is revoked). */
  start(onFatal: (error: unknown) => void): Promise<TelegramBotHandle>;
  print(line: string): void;
  retryFirstMs?: number;
  retryMaxMs?: number;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function startTelegramInBackground(opts: BackgroundTelegramOptions): BackgroundTelegram {
  const abort = new AbortController();
  let handle: TelegramBotHandle | null = null;
  const firstMs = opts.retryFirstMs ?? telegramRetryFirstMs;
  const maxMs = opts.retryMaxMs ?? telegramRetryMaxMs;

  const onFatal = (error: unknown): void => {
    opts.print(`telegram: the bot stopped (${messageOf(error)}); the engine and dashboard keep running — fix it and restart`);
  };

  const loop = (async () => {
    let waitMs = firstMs;
    for (let attempt = 1; !abort.signal.aborted; attempt++) {
      try {
        const started = await opts.start(onFatal);
        if (abort.signal.aborted) {
          await started.stop();
          return;
        }
        handle = started;
        opts.print(attempt === 1 ? 'telegram: bot started' : `telegram: bot started (attempt ${attempt})`);
        return;
      } catch (error) {
        if (error instanceof TelegramStartError && error.refused) {
          opts.print(
            `telegram: DISABLED — the Bot API refused the token (${error.message}); set TELEGRAM_BOT_TOKEN and restart. The engine and dashboard run without it.`,
          );
          return;
        }
        if (!(error instanceof TelegramStartError)) {
          // Configuration or key-store errors: retrying the same settings cannot help either.
          opts.print(`telegram: DISABLED — ${messageOf(error)}. The engine and dashboard run without it.`);
          return;
        }
        opts.print(
          `telegram: cannot reach the Bot API (${error.message}); retrying in ${Math.round(waitMs / 1_000)} s. The engine and dashboard run without it.`,
        );
        try {
          await sleep(waitMs, undefined, { signal: abort.signal });
        } catch {
          return; // stopped while waiting
        }
        waitMs = Math.min(waitMs * 2, maxMs);
      }
    }
  })();

  return {
    async stop() {
      abort.abort();
      // A start still in flight stops its own bot when it ends (it sees the abort).
      await Promise.race([loop, sleep(telegramStopWaitMs)]);
      await handle?.stop();
    },
  };
}
