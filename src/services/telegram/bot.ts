import { randomBytes } from 'node:crypto';
import { autoRetry } from '@grammyjs/auto-retry';
import { sequentialize } from '@grammyjs/runner';
import type { Context } from 'grammy';
import { Bot } from 'grammy';
import type { EngineLog } from '../../log/port.js';
import type { PartitionLogs } from '../../log/command-router.js';
import { appendRoutedCommand, singlePartition, userPartitionLog } from '../../log/command-router.js';
import type { KeyVault } from '../../secrets/key-vault.js';
import type { Logger } from '../../util/logger.js';
import type { TelegramAccess } from './config.js';
import { engineUserId, isAdmin, isAllowed } from './config.js';
import { readOnlyCommandTypes } from '../../contract/commands.js';
import { receivedText } from './format.js';
import { isConnectCommand, parseBotCommand, splitCommand } from './parse-command.js';
import type { RateLimiter } from './rate-limit.js';
import type { ViewMemory } from './relay.js';
import { safeError } from './safe-error.js';
import type { ClosedTradesRead } from '../closed-trades.js';
import { readClosedTrades } from '../closed-trades.js';
import {
  cancelButtonText,
  badCommandText,
  cancelledHtml,
  engineUnreachableText,
  foreignKeyboardToast,
  helpText,
  historyUnreadableText,
  keyTexts,
  notACommandText,
  notAllowedText,
  notConnectedText,
  privateChatOnlyText,
  slowDownText,
  confirmButtonText,
  confirmQuestionHtml,
  confirmToasts,
  dailyHtml,
  performanceHtml,
  profitHtml,
  staleConfirmationHtml,
  truncateHtml,
  alwaysOnHtml,
  digestHtml,
  emptyDigestText,
  notifySaveFailedText,
  notifySetHtml,
  notifyShowHtml,
} from './messages.js';
import type { ConfirmationBook } from './confirm.js';
import type { Digests } from './notify.js';
import { applyNotify, switchableAlertKinds } from './notify.js';
import type { NotifySettings } from './notify-store.js';
import { cancelPrefix, confirmationTtlMs, confirmedCommandTypes, confirmPrefix, createConfirmationBook } from './confirm.js';
import type { BotAction, EngineCommand, StatusView } from './parse-command.js';
import type { ActionKeyboard, KeyboardAction } from './keyboard.js';
import { keyboardCommandText } from './keyboard.js';

// The grammY bot: Telegram messages → commands on the command stream. It never touches trading state; the
// engine's answers come back through the outbound relay (relay.ts).

/**
 * auto-retry handles 429s only: it waits for Telegram's retry_after up to this long, else the call fails. Network
 * errors and 5xx fail at once (auto-retry would otherwise back off for minutes, blocking stop()); the relay
 * retries those itself, every relayRetryMs, without acknowledging.
 */
export const maxTelegramRetryDelaySeconds = 60;
/** auto-retry: attempts after a 429 before the call fails. */
export const maxTelegramRetryAttempts = 3;

/** What the bot needs of the keys vault (src/secrets/key-vault.ts). */
export type BotKeyVault = Pick<KeyVault, 'enabled' | 'connect' | 'disconnect' | 'has'>;

export interface BotDeps {
  token: string;
  apiRoot: string;
  access: TelegramAccess;
  /** Commands are appended; closed trades are read from the fill ledger (bounded: src/services/closed-trades.ts). */
  log: Pick<EngineLog, 'appendCommand' | 'readLedger'>;
  /** The partitions commands are routed to and a user's fills are read from (a cluster); absent: `log` is the only one. */
  partitions?: PartitionLogs<Pick<EngineLog, 'appendCommand' | 'readLedger'>>;
  vault: BotKeyVault | null;
  logger: Logger;
  limiter: RateLimiter;
  views: ViewMemory;
  clock: () => number;
  /** Pending /stop and /halt_all confirmations; absent: the bot keeps its own. */
  confirmations?: ConfirmationBook;
  /** A fresh confirmation token (16 hex characters); absent: 8 random bytes. */
  newToken?: () => string;
  /** The action keyboard under /help and /status (shared with the relay, which puts it under status replies). */
  keyboard: ActionKeyboard;
  /** /notify settings (shared with the relay, which applies them). */
  notify: NotifySettings;
  /** Alerts collected for digests (shared with the relay, which fills them and sends them hourly). */
  digests: Digests;
}

/** Longest a Bot API call may take: a getUpdates long poll (30 s) plus a margin for a slow network. */
export const apiCallTimeoutSeconds = 60;

export interface TelegramBot {
  bot: Bot;
  /** Resolves once every update handed to the bot so far has been handled. */
  settle(): Promise<void>;
  /** Highest update id fully handled (confirmed to Telegram on stop), or null. */
  lastHandledUpdateId(): number | null;
}

export function createTelegramBot(deps: BotDeps): TelegramBot {
  const { logger, access } = deps;
  const secrets = [deps.token];
  const partitions = deps.partitions ?? singlePartition(deps.log);
  // grammY's default is 500 s a call: an unreachable API would hold start-up that long. Long polls take
  // pollTimeoutSeconds, so a call gets that plus a margin.
  const bot = new Bot(deps.token, { client: { apiRoot: deps.apiRoot, timeoutSeconds: apiCallTimeoutSeconds } });
  bot.api.config.use(
    autoRetry({
      maxDelaySeconds: maxTelegramRetryDelaySeconds,
      maxRetryAttempts: maxTelegramRetryAttempts,
      rethrowHttpErrors: true,
      rethrowInternalServerErrors: true,
    }),
  );

  const confirmations = deps.confirmations ?? createConfirmationBook();
  const newToken = deps.newToken ?? ((): string => randomBytes(8).toString('hex'));

  const inFlight = new Set<Promise<unknown>>();
  let lastHandled: number | null = null;

  bot.use(async (ctx, next) => {
    const handling = next();
    inFlight.add(handling);
    try {
      await handling;
    } finally {
      inFlight.delete(handling);
      lastHandled = Math.max(lastHandled ?? 0, ctx.update.update_id);
    }
  });
  // One chat's messages are handled in order; different chats in parallel.
  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));

  bot.on('message:text', async (ctx) => {
    const from = ctx.from;
    const text = ctx.message.text;
    const telegramUserId = from.id;
    // Never log the text: a /connect message carries credentials.
    const commandName = splitCommand(text)?.name ?? null;
    logger.debug({ telegramUserId, chatId: ctx.chat.id, command: commandName }, 'message');

    if (isConnectCommand(text)) {
      // First of all: the credentials must not stay in the chat history, whoever sent them.
      try {
        await ctx.deleteMessage();
      } catch (error) {
        logger.warn({ telegramUserId, err: safeError(error, secrets) }, 'could not delete a /connect message');
        await ctx.reply(keyTexts.deleteFailed);
      }
    }
    if (ctx.chat.type !== 'private') {
      await ctx.reply(privateChatOnlyText);
      return;
    }
    if (!isAllowed(access, telegramUserId)) {
      logger.info({ telegramUserId }, 'refused a user who is not on the allow-list');
      await ctx.reply(notAllowedText);
      return;
    }
    const rate = deps.limiter.take(String(telegramUserId));
    if (!rate.allowed) {
      logger.info({ telegramUserId }, 'rate limited');
      // One notice per burst: a user who keeps typing through it is not answered 30 times.
      if (rate.firstRefusal) await ctx.reply(slowDownText(rate.retryInMs));
      return;
    }
    const admin = isAdmin(access, telegramUserId);
    const action = parseBotCommand({
      text,
      sender: { telegramUserId, chatId: ctx.chat.id, messageId: ctx.message.message_id, isAdmin: admin },
      botId: ctx.me.id,
      nowMs: deps.clock(),
    });
    await perform(ctx, action, telegramUserId, admin);
  });

  async function perform(ctx: Context, action: BotAction, telegramUserId: number, admin: boolean): Promise<void> {
    const userId = engineUserId(telegramUserId);
    switch (action.kind) {
      case 'help':
        await ctx.reply(helpText(admin), { reply_markup: deps.keyboard.markup(telegramUserId) });
        return;
      case 'not_a_command':
        await ctx.reply(notACommandText);
        return;
      case 'error':
        // Kept for inspection in the bot's log (the reason never quotes /connect arguments); nothing is appended.
        logger.warn({ telegramUserId, reason: action.message }, 'refused a malformed command');
        await ctx.reply(badCommandText(action.message));
        return;
      case 'engine': {
        const { command } = action;
        // The engine decides whether live trading is allowed; the bot only spares a user a live session whose
        // every order would be refused for want of keys.
        if (command.type === 'session.start' && command.mode === 'live' && !(deps.vault?.enabled && (await deps.vault.has(userId)))) {
          await ctx.reply(notConnectedText);
          return;
        }
        if (confirmedCommandTypes.has(command.type) && action.confirmed !== true) {
          const token = newToken();
          confirmations.ask(token, telegramUserId, command, deps.clock());
          await ctx.reply(confirmQuestionHtml(command.type, confirmationTtlMs), {
            parse_mode: 'HTML',
            reply_markup: {
              inline_keyboard: [
                [
                  { text: confirmButtonText, callback_data: `${confirmPrefix}${token}` },
                  { text: cancelButtonText, callback_data: `${cancelPrefix}${token}` },
                ],
              ],
            },
          });
          return;
        }
        await sendToEngine(ctx, command, action.view, telegramUserId);
        return;
      }
      case 'history': {
        let read: ClosedTradesRead;
        try {
          read = await readClosedTrades(await userPartitionLog(partitions, userId), userId);
        } catch (error) {
          logger.error({ telegramUserId, err: safeError(error, secrets) }, 'reading the fill ledger failed');
          await ctx.reply(historyUnreadableText);
          return;
        }
        const html = action.what === 'profit' ? profitHtml(read) : action.what === 'daily' ? dailyHtml(read, action.days, deps.clock()) : performanceHtml(read);
        await ctx.reply(truncateHtml(html), { parse_mode: 'HTML' });
        return;
      }
      case 'notify': {
        const { request } = action;
        if (request.kind === 'always_on') {
          await ctx.reply(alwaysOnHtml(request.alertKind), { parse_mode: 'HTML' });
          return;
        }
        try {
          const prefs = await deps.notify.get(userId);
          if (request.kind === 'show') {
            await ctx.reply(notifyShowHtml(prefs), { parse_mode: 'HTML' });
            return;
          }
          await deps.notify.set(userId, applyNotify(prefs, request.kinds, request.mode));
        } catch (error) {
          logger.error({ telegramUserId, err: safeError(error, secrets) }, 'notification settings failed');
          await ctx.reply(notifySaveFailedText);
          return;
        }
        await ctx.reply(notifySetHtml(request.kinds, request.mode, request.kinds.length === switchableAlertKinds.length), { parse_mode: 'HTML' });
        return;
      }
      case 'digest': {
        const digest = deps.digests.take(telegramUserId);
        if (digest === null) await ctx.reply(emptyDigestText, { parse_mode: 'HTML' });
        else await ctx.reply(truncateHtml(digestHtml(digest.lines, digest.dropped)), { parse_mode: 'HTML' });
        return;
      }
      case 'connect': {
        if (!deps.vault?.enabled) {
          await ctx.reply(keyTexts.storageOff);
          return;
        }
        const credentials = [action.apiKey, action.apiSecret];
        try {
          await deps.vault.connect(userId, action.apiKey, action.apiSecret);
        } catch (error) {
          logger.error({ telegramUserId, err: safeError(error, [...secrets, ...credentials]) }, 'storing exchange keys failed');
          await ctx.reply(keyTexts.storeFailed);
          return;
        }
        logger.info({ telegramUserId }, 'exchange keys stored');
        await ctx.reply(keyTexts.stored);
        return;
      }
      case 'disconnect': {
        if (!deps.vault?.enabled) {
          await ctx.reply(keyTexts.storageOffDisconnect);
          return;
        }
        const removed = await deps.vault.disconnect(userId);
        logger.info({ telegramUserId, removed }, 'exchange keys disconnected');
        await ctx.reply(removed ? keyTexts.deleted : keyTexts.noneStored);
        return;
      }
    }
  }

  async function sendToEngine(ctx: Context, command: EngineCommand, view: StatusView | null, telegramUserId: number): Promise<void> {
    // Remembered before appending: the engine's answer may come back before appendCommand resolves.
    if (view !== null) deps.views.remember(command.id, view);
    try {
      await appendRoutedCommand(partitions, command);
    } catch (error) {
      deps.views.forget(command.id);
      logger.error({ telegramUserId, commandId: command.id, err: safeError(error, secrets) }, 'appending a command failed');
      await ctx.reply(engineUnreachableText);
      return;
    }
    logger.info({ telegramUserId, commandId: command.id, type: command.type }, 'command appended');
    // A read's answer comes at once and is its own acknowledgement; a change is acknowledged when queued.
    if (!readOnlyCommandTypes.has(command.type)) await ctx.reply(receivedText(command));
  }

  // A Confirm / Cancel press on a /stop or /halt_all question (confirm.ts).
  bot.on('callback_query:data', async (ctx) => {
    const telegramUserId = ctx.from.id;
    if (!isAllowed(access, telegramUserId)) {
      await ctx.answerCallbackQuery({ text: notAllowedText });
      return;
    }
    const data = ctx.callbackQuery.data;
    const press = deps.keyboard.read(data, telegramUserId);
    if (press.kind === 'foreign') {
      logger.info({ telegramUserId }, 'refused a keyboard press not bound to this user');
      await ctx.answerCallbackQuery({ text: foreignKeyboardToast });
      return;
    }
    if (press.kind === 'action') {
      await ctx.answerCallbackQuery();
      await pressKey(ctx, press.action, telegramUserId);
      return;
    }
    const answer = confirmations.answer(data, telegramUserId, deps.clock());
    logger.debug({ telegramUserId, answer: answer.kind }, 'confirmation button');
    if (answer.kind === 'not_ours') {
      await ctx.answerCallbackQuery();
      return;
    }
    await ctx.answerCallbackQuery({ text: confirmToasts[answer.kind] });
    if (answer.kind === 'foreign') {
      await ctx.reply(confirmToasts.foreign);
      return;
    }
    // The question's buttons go, whatever the answer (best effort: the message may be too old to edit).
    await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch((error: unknown) => {
      logger.debug({ telegramUserId, err: safeError(error, secrets) }, 'could not remove the confirmation buttons');
    });
    if (answer.kind === 'stale') await ctx.reply(staleConfirmationHtml(), { parse_mode: 'HTML' });
    else if (answer.kind === 'cancelled') await ctx.reply(cancelledHtml(answer.command.type), { parse_mode: 'HTML' });
    else await sendToEngine(ctx, answer.command, null, telegramUserId);
  });

  /** A keyboard press: what typing its command would do, within the same rate limit (Stop still asks to confirm). */
  async function pressKey(ctx: Context, key: KeyboardAction, telegramUserId: number): Promise<void> {
    const chatId = ctx.chat?.id;
    const messageId = ctx.callbackQuery?.message?.message_id;
    if (chatId === undefined || messageId === undefined || ctx.callbackQuery === undefined) return;
    const rate = deps.limiter.take(String(telegramUserId));
    if (!rate.allowed) {
      if (rate.firstRefusal) await ctx.reply(slowDownText(rate.retryInMs));
      return;
    }
    const admin = isAdmin(access, telegramUserId);
    const action = parseBotCommand({
      text: keyboardCommandText[key],
      sender: { telegramUserId, chatId, messageId, isAdmin: admin },
      botId: ctx.me.id,
      nowMs: deps.clock(),
      callbackQueryId: ctx.callbackQuery.id,
    });
    logger.debug({ telegramUserId, key }, 'keyboard press');
    await perform(ctx, action, telegramUserId, admin);
  }

  // A bad update (or a failed reply) is logged and dropped; it never stops the bot.
  bot.catch((error) => {
    logger.error({ updateId: error.ctx.update.update_id, err: safeError(error.error, secrets) }, 'handling an update failed');
  });

  return {
    bot,
    async settle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    lastHandledUpdateId: () => lastHandled,
  };
}
