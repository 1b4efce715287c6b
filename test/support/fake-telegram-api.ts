import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

// A local stand-in for the Telegram Bot API, speaking the subset grammY and @grammyjs/runner use:
// getMe, getUpdates (long polling with offset confirmation; messages and inline-button presses),
// sendMessage (with reply_markup), deleteMessage, answerCallbackQuery, setMyCommands, deleteWebhook; anything
// else answers ok. grammY posts JSON (form bodies are accepted too). Requests for
// any other token get 401, like the real API.

export interface SentMessage {
  chat_id: number;
  text: string;
  message_id: number;
  parse_mode?: string;
  /** The inline keyboard sent with the message, if any. */
  reply_markup?: { inline_keyboard?: { text: string; callback_data?: string }[][] };
  disable_notification?: boolean;
}

/** Tags Telegram's HTML parse mode knows (https://core.telegram.org/bots/api#html-style). */
const telegramHtmlTags = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'tg-spoiler', 'span', 'blockquote']);

/**
 * Why Telegram would refuse this text in HTML parse mode, or null: every `<` opens a known tag and tags nest and
 * close, every `&` is an entity (&lt; &gt; &amp; &quot; or numeric), as the Bot API requires.
 */
export function htmlProblem(text: string): string | null {
  const open: string[] = [];
  const token = /<\/?([a-zA-Z-]*)[^>]*>|<|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|&/g;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    const [whole, tag] = m;
    if (whole === '&') return `can't parse entities: unexpected "&" at byte offset ${m.index}`;
    if (whole.startsWith('&')) continue;
    if (whole === '<' || tag === undefined || !telegramHtmlTags.has(tag.toLowerCase()))
      return `can't parse entities: unsupported start tag "${whole.slice(0, 20)}" at byte offset ${m.index}`;
    if (whole.startsWith('</')) {
      if (open.pop() !== tag.toLowerCase()) return `can't parse entities: unmatched end tag at byte offset ${m.index}`;
    } else open.push(tag.toLowerCase());
  }
  return open.length > 0 ? `can't parse entities: can't find end tag corresponding to start tag "${open[open.length - 1]}"` : null;
}

export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
}

interface Update {
  update_id: number;
  message?: Record<string, unknown>;
  callback_query?: Record<string, unknown>;
}

interface Waiter {
  offset: number;
  limit: number;
  answer: (updates: Update[]) => void;
}

/** Failures for the next `times` sendMessage calls (only those to `chatId` when given). */
export type SendFailure = ({ kind: 'rate_limit'; retryAfterSeconds: number } | { kind: 'server_error' }) & { times: number; chatId?: number };

export interface FakeTelegram {
  apiRoot: string;
  token: string;
  botId: number;
  /** Queues a private-chat text message from this user (chat id = user id); returns its ids. */
  pushText(fromUserId: number, text: string): { updateId: number; messageId: number };
  /** Queues a press on an inline button with this callback data, on the bot's message `messageId` in `chatId`. */
  pushCallback(fromUserId: number, data: string, message: { chatId: number; messageId: number }): { updateId: number; callbackId: string };
  /** Texts shown for button presses (answerCallbackQuery), in order. */
  readonly callbackAnswers: { callback_query_id: string; text?: string }[];
  /** Texts sent to this chat, in order. */
  messages(chatId: number): string[];
  readonly sent: SentMessage[];
  readonly deletedMessages: { chat_id: number; message_id: number }[];
  /** Every API call received (method and parameters), in order. */
  readonly calls: ApiCall[];
  /** Updates queued and not yet confirmed by an offset. */
  unconfirmedUpdates(): number;
  /** Makes the next `times` sendMessage calls fail (429 with retry_after, or 500); null clears. */
  failSendMessage(failure: SendFailure | null): void;
  /** sendMessage calls refused by failSendMessage so far (to one chat, or to any). */
  refusedSends(chatId?: number): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  if (raw.length === 0) return {};
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  if (type.includes('application/x-www-form-urlencoded')) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(raw)) {
      try {
        out[k] = JSON.parse(v);
      } catch {
        out[k] = v;
      }
    }
    return out;
  }
  throw new Error(`unsupported content type ${type}`);
}

export async function startFakeTelegram(opts: { token: string; botId?: number; botUsername?: string; port?: number }): Promise<FakeTelegram> {
  const botId = opts.botId ?? 7_000_001;
  const bot = { id: botId, is_bot: true, first_name: 'Quant Engine', username: opts.botUsername ?? 'quant_engine_test_bot' };
  let updates: Update[] = [];
  let nextUpdateId = 1;
  let nextMessageId = 1;
  let closing = false;
  let failure: SendFailure | null = null;
  const refused: number[] = [];
  const waiters = new Set<Waiter>();
  const sent: SentMessage[] = [];
  const deletedMessages: { chat_id: number; message_id: number }[] = [];
  const calls: ApiCall[] = [];
  const callbackAnswers: { callback_query_id: string; text?: string }[] = [];

  const available = (offset: number, limit: number): Update[] => updates.filter((u) => u.update_id >= offset).slice(0, limit);

  function wake(): void {
    for (const waiter of [...waiters]) {
      const batch = available(waiter.offset, waiter.limit);
      if (batch.length > 0 || closing) waiter.answer(batch);
    }
  }

  function reply(res: ServerResponse, status: number, body: unknown): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }
  const ok = (res: ServerResponse, result: unknown): void => reply(res, 200, { ok: true, result });

  function getUpdates(params: Record<string, unknown>, res: ServerResponse): void {
    const offset = Number(params.offset ?? 0);
    const limit = Math.max(1, Math.min(100, Number(params.limit ?? 100)));
    const timeoutSeconds = Number(params.timeout ?? 0);
    // An offset confirms every update before it: they are never delivered again.
    if (offset > 0) updates = updates.filter((u) => u.update_id >= offset);
    const batch = available(offset, limit);
    if (batch.length > 0 || closing || timeoutSeconds <= 0) return ok(res, batch);
    const waiter: Waiter = {
      offset,
      limit,
      answer: (result) => {
        clearTimeout(timer);
        waiters.delete(waiter);
        ok(res, result);
      },
    };
    const timer = setTimeout(() => waiter.answer([]), timeoutSeconds * 1000);
    waiters.add(waiter);
    // The client gave up (the runner was stopped): forget the waiter.
    res.on('close', () => {
      clearTimeout(timer);
      waiters.delete(waiter);
    });
  }

  function sendMessage(params: Record<string, unknown>, res: ServerResponse): void {
    if (failure && failure.times > 0 && (failure.chatId === undefined || failure.chatId === Number(params.chat_id))) {
      failure.times -= 1;
      refused.push(Number(params.chat_id));
      const f = failure;
      if (failure.times === 0) failure = null;
      if (f.kind === 'rate_limit') {
        return reply(res, 429, {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${f.retryAfterSeconds}`,
          parameters: { retry_after: f.retryAfterSeconds },
        });
      }
      return reply(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' });
    }
    const chatId = Number(params.chat_id);
    const text = String(params.text ?? '');
    if (!Number.isFinite(chatId) || text.length === 0)
      return reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat_id and text are required' });
    if (text.length > 4096) return reply(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' });
    const parseMode = typeof params.parse_mode === 'string' ? params.parse_mode : undefined;
    const problem = parseMode === 'HTML' ? htmlProblem(text) : null;
    if (problem !== null) return reply(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${problem}` });
    const messageId = nextMessageId++;
    sent.push({
      chat_id: chatId,
      text,
      message_id: messageId,
      ...(parseMode !== undefined ? { parse_mode: parseMode } : {}),
      ...(params.reply_markup !== undefined ? { reply_markup: params.reply_markup as SentMessage['reply_markup'] } : {}),
      ...(params.disable_notification === true ? { disable_notification: true } : {}),
    });
    ok(res, { message_id: messageId, date: Math.floor(Date.now() / 1000), chat: { id: chatId, type: 'private' }, from: bot, text });
  }

  const server = createServer((req, res) => {
    void (async () => {
      const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(new URL(req.url ?? '/', 'http://fake').pathname);
      let params: Record<string, unknown>;
      try {
        params = await readBody(req);
      } catch (error) {
        return reply(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${String(error)}` });
      }
      if (!match) return reply(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
      const [, token, method = ''] = match;
      if (token !== opts.token) return reply(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
      calls.push({ method, params });
      switch (method) {
        case 'getMe':
          return ok(res, bot);
        case 'getUpdates':
          return getUpdates(params, res);
        case 'sendMessage':
          return sendMessage(params, res);
        case 'deleteMessage':
          deletedMessages.push({ chat_id: Number(params.chat_id), message_id: Number(params.message_id) });
          return ok(res, true);
        case 'answerCallbackQuery':
          callbackAnswers.push({
            callback_query_id: String(params.callback_query_id),
            ...(typeof params.text === 'string' ? { text: params.text } : {}),
          });
          return ok(res, true);
        case 'setMyCommands':
        case 'deleteWebhook':
        default:
          return ok(res, true);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    apiRoot: `http://127.0.0.1:${port}`,
    token: opts.token,
    botId,
    pushText(fromUserId, text) {
      const updateId = nextUpdateId++;
      const messageId = nextMessageId++;
      const command = /^\/\S+/.exec(text);
      updates.push({
        update_id: updateId,
        message: {
          message_id: messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: fromUserId, type: 'private', first_name: `user${fromUserId}` },
          from: { id: fromUserId, is_bot: false, first_name: `user${fromUserId}` },
          text,
          ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
        },
      });
      wake();
      return { updateId, messageId };
    },
    pushCallback(fromUserId, data, message) {
      const updateId = nextUpdateId++;
      const callbackId = `cb-${updateId}`;
      const original = sent.find((m) => m.chat_id === message.chatId && m.message_id === message.messageId);
      updates.push({
        update_id: updateId,
        callback_query: {
          id: callbackId,
          from: { id: fromUserId, is_bot: false, first_name: `user${fromUserId}` },
          chat_instance: `ci-${message.chatId}`,
          data,
          message: {
            message_id: message.messageId,
            date: Math.floor(Date.now() / 1000),
            chat: { id: message.chatId, type: 'private', first_name: `user${message.chatId}` },
            from: bot,
            text: original?.text ?? '',
          },
        },
      });
      wake();
      return { updateId, callbackId };
    },
    callbackAnswers,
    messages: (chatId) => sent.filter((m) => m.chat_id === chatId).map((m) => m.text),
    sent,
    deletedMessages,
    calls,
    unconfirmedUpdates: () => updates.length,
    failSendMessage(next) {
      failure = next === null ? null : { ...next };
    },
    refusedSends: (chatId) => (chatId === undefined ? refused.length : refused.filter((c) => c === chatId).length),
    async close() {
      closing = true;
      wake(); // pending long polls answer [] at once
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
