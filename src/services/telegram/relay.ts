import { GrammyError } from 'grammy';
import type { AlertKind, FillNotice } from '../../contract/outbound.js';
import { parseOutboundEvent } from '../../contract/outbound.js';
import { streamNames } from '../../log/port.js';
import type { EngineLog } from '../../log/port.js';
import type { FanOutGate } from './fan-out.js';
import type { Logger } from '../../util/logger.js';
import { chatIdForEngineUser } from './config.js';
import { formatOutbound } from './format.js';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { ActionKeyboard } from './keyboard.js';
import type { FillGroups } from './fill-groups.js';
import { addFill, dueFillChats } from './fill-groups.js';
import { digestHtml, fillGroupHtml, truncateHtml } from './messages.js';
import type { Digests, NotifyMode } from './notify.js';
import { modeFor } from './notify.js';
import type { NotifySettings } from './notify-store.js';
import { engineUserId } from './config.js';
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
/** On stop, how long the relay may spend sending the fill groups it still holds before it gives up on them. */
export const stopFlushTimeoutMs = 2_000;

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
  /** keyboard: the action keyboard under a status reply (keyboard.ts), for the session's state. */
  | {
      kind: 'send';
      chatId: number;
      text: string;
      forgetView: string | null;
      alertKind: AlertKind | null;
      keyboard: InlineKeyboardMarkup | null;
      /** A reply's identity (for the fan-out gate); null for an alert. */
      reply: { commandId: string; commandType: string | null; status: string } | null;
    }
  /** A fill alert: collected into the user's fill groups (fill-groups.ts), sent grouped. */
  | { kind: 'fill'; chatId: number; fill: FillNotice };

/** Pure: what to do with one outbound entry. Not for a Telegram user, unknown type, unreadable: skip (ack). */
export function planDelivery(raw: string, views: Pick<ViewMemory, 'get'>, keyboard?: Pick<ActionKeyboard, 'markup'>): Delivery {
  const parsed = parseOutboundEvent(raw);
  if (!parsed.ok) return { kind: 'skip', why: parsed.reason };
  const e = parsed.event;
  if (e.type !== 'reply' && e.type !== 'alert') return { kind: 'skip', why: `type ${e.type} is not relayed` };
  const chatId = chatIdForEngineUser(e.userId);
  if (chatId === null) return { kind: 'skip', why: 'not a telegram user' };
  // A fill alert from an engine before typed notices has none: it is sent on its own, as worded.
  if (e.type === 'alert' && e.kind === 'fill' && e.fill !== undefined) return { kind: 'fill', chatId, fill: e.fill };
  const view = e.type === 'reply' ? views.get(e.commandId) : null;
  const text = formatOutbound(e, view);
  if (text === null) return { kind: 'skip', why: 'nothing to say' };
  // A full status (not /positions or /pnl) gets the keyboard, with the actions its session's state allows.
  const statusSession =
    e.type === 'reply' && e.status === 'done' && e.commandType === 'status' && (view ?? 'status') === 'status' ? e.result.session : undefined;
  return {
    kind: 'send',
    chatId,
    text,
    forgetView: e.type === 'reply' && e.status !== 'accepted' ? e.commandId : null,
    alertKind: e.type === 'alert' ? e.kind : null,
    keyboard: statusSession !== undefined && keyboard !== undefined ? keyboard.markup(chatId, statusSession) : null,
    reply: e.type === 'reply' ? { commandId: e.commandId, commandType: e.commandType, status: e.status } : null,
  };
}

/** Telegram answers that will never change on a retry (chat gone, bot blocked, bad request): drop the message. */
export function isPermanentSendError(error: unknown): boolean {
  return error instanceof GrammyError && (error.error_code === 400 || error.error_code === 403);
}

export interface RelayOptions {
  log: EngineLog;
  /** Sends one message (silent: without a sound); resolves once Telegram accepted it. Aborted by stop(). */
  send(chatId: number, text: string, signal: AbortSignal, silent: boolean, keyboard?: InlineKeyboardMarkup): Promise<void>;
  /** The action keyboard put under status replies; absent: none. */
  keyboard?: Pick<ActionKeyboard, 'markup'>;
  /** The users' /notify settings: which alerts go out, silent, into the digest, or not at all. */
  notify: NotifySettings;
  /** Alerts collected for digests (the bot's /digest takes them too). */
  digests: Digests;
  views: ViewMemory;
  logger: Logger;
  /** Strings never to log (the bot token). */
  secrets: readonly string[];
  batchEntries?: number;
  blockMs?: number;
  retryMs?: number;
  /** For the fill groups' window; absent: the wall clock. */
  clock?: () => number;
  /** On a cluster: which partition this relay reads, and the gate every partition's relay shares (fan-out.ts). */
  fanOut?: { source: number; gate: FanOutGate };
}

export interface Relay {
  stop(): Promise<void>;
}

export function startOutboundRelay(opts: RelayOptions): Relay {
  const { log, logger } = opts;
  const batchEntries = opts.batchEntries ?? relayBatchEntries;
  const blockMs = opts.blockMs ?? relayBlockMs;
  const retryMs = opts.retryMs ?? relayRetryMs;
  const clock = opts.clock ?? Date.now;
  const stopping = new AbortController();
  // Held in memory, and their outbound entries acknowledged when collected: a crash loses at most one window of
  // fill *notifications* (the fills themselves are in the ledger: /trades), and the digests collected so far. Keeping them pending instead would
  // have the relay's pending re-read (after any failure) find them again and again.
  const fillGroups: FillGroups = new Map();

  /** Sends a chat's fill groups, one message per order; false when Telegram failed (the rest is kept). */
  async function flushFills(chatId: number, signal: AbortSignal): Promise<boolean> {
    const user = fillGroups.get(chatId);
    if (user === undefined) return true;
    let mode: NotifyMode;
    try {
      mode = modeFor(await opts.notify.get(engineUserId(String(chatId))), 'fill');
    } catch (error) {
      logger.warn({ chatId, err: safeError(error, opts.secrets) }, 'reading notification settings failed; will retry');
      return false;
    }
    for (const [orderId, group] of user.groups) {
      try {
        if (mode === 'digest') await collect(chatId, fillGroupHtml(group), signal);
        else if (mode !== 'off') await opts.send(chatId, fillGroupHtml(group), signal, mode === 'silent');
      } catch (error) {
        if (!isPermanentSendError(error)) {
          if (!signal.aborted) logger.warn({ chatId, err: safeError(error, opts.secrets) }, 'sending grouped fills failed; will retry');
          return false;
        }
        logger.warn({ chatId, err: safeError(error, opts.secrets) }, 'telegram refused grouped fills for good; dropped');
      }
      user.groups.delete(orderId);
    }
    fillGroups.delete(chatId);
    return true;
  }

  /** Adds a line to a chat's digest; a digest pushed out by the bounds is sent at once (best effort). */
  async function collect(chatId: number, html: string, signal: AbortSignal): Promise<void> {
    const early = opts.digests.add(chatId, html, clock());
    if (early !== null) await sendDigest(early, signal);
  }

  /** Sends a chat's digest; on failure it is put back (false). */
  async function sendDigest(chatId: number, signal: AbortSignal): Promise<boolean> {
    const digest = opts.digests.take(chatId);
    if (digest === null) return true;
    try {
      await opts.send(chatId, truncateHtml(digestHtml(digest.lines, digest.dropped)), signal, false);
      return true;
    } catch (error) {
      if (isPermanentSendError(error)) return true;
      if (!signal.aborted) logger.warn({ chatId, err: safeError(error, opts.secrets) }, 'sending a digest failed; will retry');
      opts.digests.putBack(chatId, digest);
      return false;
    }
  }

  /** Sends every fill group whose window has passed; false when one failed. */
  async function flushDueFills(): Promise<boolean> {
    for (const chatId of dueFillChats(fillGroups, clock())) if (!(await flushFills(chatId, stopping.signal))) return false;
    for (const chatId of opts.digests.due(clock())) if (!(await sendDigest(chatId, stopping.signal))) return false;
    return true;
  }

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
    const plan = planDelivery(raw, opts.views, opts.keyboard);
    if (plan.kind === 'skip') {
      logger.trace({ entryId: id, why: plan.why }, 'outbound entry skipped');
      return true;
    }
    if (plan.kind === 'fill') {
      // A bound reached flushes early; a failure there keeps the groups for the next round (the fill is held).
      for (const chatId of addFill(fillGroups, plan.chatId, plan.fill, clock())) await flushFills(chatId, stopping.signal);
      return true;
    }
    // A fan-out's answers from every partition become one (fan-out.ts).
    const verdict = plan.reply && opts.fanOut ? opts.fanOut.gate.admit(plan.reply, opts.fanOut.source, plan.text) : { send: true as const, text: plan.text };
    if (!verdict.send) return true;
    const { text } = verdict;
    // The user's earlier fills go first, so this message never overtakes them.
    if (!(await flushFills(plan.chatId, stopping.signal))) return false;
    // Replies always go out; an alert as the user chose (risk alerts are always on: notify.ts).
    let mode: NotifyMode = 'on';
    try {
      if (plan.alertKind !== null) mode = modeFor(await opts.notify.get(engineUserId(String(plan.chatId))), plan.alertKind);
    } catch (error) {
      logger.warn({ entryId: id, err: safeError(error, opts.secrets) }, 'reading notification settings failed; will retry');
      return false;
    }
    if (mode === 'off') return true;
    try {
      if (mode === 'digest') await collect(plan.chatId, text, stopping.signal);
      else await opts.send(plan.chatId, text, stopping.signal, mode === 'silent', plan.keyboard ?? undefined);
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
        if (!(await flushDueFills())) {
          await pause(retryMs);
          continue;
        }
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
      // Best effort: what is still collected goes out now, within a bound (Telegram may be the reason we stop).
      const flushing = AbortSignal.timeout(stopFlushTimeoutMs);
      for (const chatId of [...fillGroups.keys()]) if (!(await flushFills(chatId, flushing))) break;
    },
  };
}
