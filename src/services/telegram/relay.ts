import { GrammyError } from 'grammy';
import { parseOutboundEvent } from '../../contract/outbound.js';
import { streamNames } from '../../log/port.js';
import type { EngineLog } from '../../log/port.js';
import type { Logger } from '../../util/logger.js';
import { chatIdForEngineUser } from './config.js';
import { formatOutbound } from './format.js';
import type { StatusView } from './parse-command.js';
import { safeError } from './safe-error.js';

// The outbound relay: replies and alerts for Telegram users (userId tg<N>) go to private chat N. Its own
// consumer group on evt:exec; an entry is acknowledged only once Telegram accepted the message (or it is not
// for Telegram at all), so whatever was produced while the bot was down, or failed to send, is delivered
// after a restart: the relay starts with its own pending entries, then reads new ones.

export const relayGroup = streamNames.telegramGroup;
/** One fixed consumer name: a restarted bot finds its predecessor's pending (delivered, unsent) entries. */
export const relayConsumer = 'telegram-1';
/** Entries read per round trip. */
export const relayBatchEntries = 50;
/** How long one read waits for new entries; also bounds how long stop() waits for the loop. */
export const relayBlockMs = 500;
/** Pause after a failed send or read before trying again (Telegram or Redis unreachable). */
export const relayRetryMs = 1_000;
/** Status views remembered (commandId → view); beyond this the oldest is forgotten (generic rendering). */
export const maxRememberedViews = 1_000;

/** Bounded commandId → status view map: which of /status, /positions, /pnl asked. */
export interface ViewMemory {
  remember(commandId: string, view: StatusView): void;
  get(commandId: string): StatusView | null;
  /** Dropped once the command's final answer (done/rejected) was delivered. */
  forget(commandId: string): void;
  size(): number;
}

export function createViewMemory(max = maxRememberedViews): ViewMemory {
  const views = new Map<string, StatusView>();
  return {
    remember(commandId, view) {
      views.set(commandId, view);
      while (views.size > max) {
        const oldest = views.keys().next();
        if (oldest.done) break;
        views.delete(oldest.value);
      }
    },
    get: (commandId) => views.get(commandId) ?? null,
    forget: (commandId) => void views.delete(commandId),
    size: () => views.size,
  };
}

export type Delivery =
  | { kind: 'skip'; why: string }
  /** forgetView: the command whose remembered view is no longer needed once this is sent. */
  | { kind: 'send'; chatId: number; text: string; forgetView: string | null };

/** Pure: what to do with one outbound entry. Not for a Telegram user, unknown type, unreadable: skip (ack). */
export function planDelivery(raw: string, views: Pick<ViewMemory, 'get'>): Delivery {
  const parsed = parseOutboundEvent(raw);
  if (!parsed.ok) return { kind: 'skip', why: parsed.reason };
  const e = parsed.event;
  if (e.type !== 'reply' && e.type !== 'alert') return { kind: 'skip', why: `type ${e.type} is not relayed` };
  const chatId = chatIdForEngineUser(e.userId);
  if (chatId === null) return { kind: 'skip', why: 'not a telegram user' };
  const view = e.type === 'reply' ? views.get(e.commandId) : null;
  const text = formatOutbound(e, view);
  if (text === null) return { kind: 'skip', why: 'nothing to say' };
  return { kind: 'send', chatId, text, forgetView: e.type === 'reply' && e.status !== 'accepted' ? e.commandId : null };
}

/** Telegram answers that will never change on a retry (chat gone, bot blocked, bad request): drop the message. */
export function isPermanentSendError(error: unknown): boolean {
  return error instanceof GrammyError && (error.error_code === 400 || error.error_code === 403);
}

export interface RelayOptions {
  log: EngineLog;
  /** Sends one message; resolves once Telegram accepted it. Aborted by stop(). */
  send(chatId: number, text: string, signal: AbortSignal): Promise<void>;
  views: ViewMemory;
  logger: Logger;
  /** Strings never to log (the bot token). */
  secrets: readonly string[];
  batchEntries?: number;
  blockMs?: number;
  retryMs?: number;
}

export interface Relay {
  stop(): Promise<void>;
}

export function startOutboundRelay(opts: RelayOptions): Relay {
  const { log, logger } = opts;
  const batchEntries = opts.batchEntries ?? relayBatchEntries;
  const blockMs = opts.blockMs ?? relayBlockMs;
  const retryMs = opts.retryMs ?? relayRetryMs;
  const stopping = new AbortController();
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      stopping.signal.addEventListener('abort', done, { once: true });
      function done(): void {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      }
    });

  /** true: acknowledge; false: keep pending and retry later. */
  async function deliver(id: string, raw: string): Promise<boolean> {
    const plan = planDelivery(raw, opts.views);
    if (plan.kind === 'skip') {
      logger.trace({ entryId: id, why: plan.why }, 'outbound entry skipped');
      return true;
    }
    try {
      await opts.send(plan.chatId, plan.text, stopping.signal);
      if (plan.forgetView !== null) opts.views.forget(plan.forgetView);
      logger.debug({ entryId: id, chatId: plan.chatId }, 'outbound entry relayed');
      return true;
    } catch (error) {
      if (isPermanentSendError(error)) {
        logger.warn({ entryId: id, chatId: plan.chatId, err: safeError(error, opts.secrets) }, 'telegram refused the message for good; dropped');
        return true;
      }
      if (!stopping.signal.aborted) logger.warn({ entryId: id, chatId: plan.chatId, err: safeError(error, opts.secrets) }, 'sending failed; will retry');
      return false;
    }
  }

  const loop = (async () => {
    let pending = true; // after a (re)start or a failure: our own unacknowledged entries come first
    while (!stopping.signal.aborted) {
      try {
        if (pending === true) await log.initOutboundGroup(relayGroup);
        const records = pending
          ? await log.readOutboundPending(relayGroup, relayConsumer, batchEntries)
          : await log.readOutbound(relayGroup, relayConsumer, batchEntries, blockMs);
        if (pending && records.length === 0) {
          pending = false;
          continue;
        }
        for (const record of records) {
          if (stopping.signal.aborted) break; // the rest stays pending for the next start
          if (!(await deliver(record.id, record.data))) {
            pending = true;
            await pause(retryMs);
            break;
          }
          await log.ackOutbound(relayGroup, [record.id]);
        }
      } catch (error) {
        if (stopping.signal.aborted) break;
        logger.error({ err: safeError(error, opts.secrets) }, 'outbound relay failed; retrying');
        pending = true;
        await pause(retryMs);
      }
    }
  })();

  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
