import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../src/contract/session-summary.js';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { createActionKeyboard, sessionActions } from '../../src/services/telegram/keyboard.js';
import type { TelegramBotHandle } from '../../src/services/telegram/run-telegram.js';
import { startTelegramBot } from '../../src/services/telegram/run-telegram.js';
import { silentLogger } from '../../src/util/logger.js';
import type { FakeTelegram, SentMessage } from '../support/fake-telegram-api.js';
import { startFakeTelegram } from '../support/fake-telegram-api.js';
import { useHarness } from '../support/harness.js';
import { redisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { commandsInStream, converse, pressButton } from './helpers.js';

// The keyboard for the common actions (issue 15 item 1): under /start, /help and /status, Status, Profit, Daily and
// the session's own actions as its state allows; a press does what typing the command does (Stop still asks), and
// its callback data is bound to the user it was shown to.

const token = '434343:telegram-keyboard-test-token';
const owner = 121;
const neighbour = 122;

const summary = (over: Partial<SessionSummary>): SessionSummary =>
  ({ status: 'active', paused: false, killSwitch: { engaged: false, reason: null }, ...over }) as SessionSummary;
const labels = (markup: { inline_keyboard: { text: string }[][] }): string[][] => markup.inline_keyboard.map((row) => row.map((b) => b.text));

describe('action keyboard (pure)', () => {
  const keyboard = createActionKeyboard(token);

  it('offers Pause or Resume only as the session’s state allows', () => {
    expect(sessionActions(undefined)).toEqual(['stop']);
    expect(sessionActions(null)).toEqual([]);
    expect(sessionActions(summary({}))).toEqual(['pause', 'stop']);
    expect(sessionActions(summary({ paused: true }))).toEqual(['resume', 'stop']);
    expect(sessionActions(summary({ paused: true, killSwitch: { engaged: true, reason: 'stop_loss' } }))).toEqual(['stop']);
    expect(sessionActions(summary({ status: 'stopping' }))).toEqual([]);
    expect(sessionActions(summary({ status: 'closed' }))).toEqual([]);
    expect(labels(keyboard.markup(owner, null))).toEqual([['📊 Status', '💰 Profit', '📅 Daily']]);
    expect(labels(keyboard.markup(owner, summary({ paused: true })))).toEqual([
      ['📊 Status', '💰 Profit', '📅 Daily'],
      ['▶️ Resume', '🛑 Stop'],
    ]);
  });

  it('binds callback data to the user: another user’s, a forged tag or another bot’s is refused', () => {
    const data = keyboard.markup(owner).inline_keyboard.flat();
    for (const b of data) expect(Buffer.byteLength(b.callback_data ?? '')).toBeLessThanOrEqual(64);
    const stop = data.find((b) => b.text === '🛑 Stop')?.callback_data ?? '';
    expect(stop).toMatch(/^kb:stop:[0-9a-f]{16}$/);
    expect(keyboard.read(stop, owner)).toEqual({ kind: 'action', action: 'stop' });
    expect(keyboard.read(stop, neighbour)).toEqual({ kind: 'foreign' });
    expect(
      keyboard.read(
        stop.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
        owner,
      ),
    ).toEqual({ kind: 'foreign' });
    expect(keyboard.read(stop.replace('kb:stop:', 'kb:pause:'), owner)).toEqual({ kind: 'foreign' });
    expect(keyboard.read('kb:nuke:0123456789abcdef', owner)).toEqual({ kind: 'foreign' });
    expect(createActionKeyboard('999:another-bot').read(stop, owner)).toEqual({ kind: 'foreign' });
    expect(keyboard.read('cf:0123456789abcdef', owner)).toEqual({ kind: 'not_ours' });
  });
});

describe('action keyboard in the chat, against the engine', () => {
  const harness = useHarness({ label: 'tg-keyboard' });
  let fake: FakeTelegram;
  let botLog: EngineLog;
  let bot: TelegramBotHandle | null = null;

  beforeAll(async () => {
    fake = await startFakeTelegram({ token });
    botLog = await openRedisLog({ url: redisUrl, prefix: harness().prefix });
    bot = await startTelegramBot({
      log: botLog,
      token,
      apiRoot: fake.apiRoot,
      access: { userIds: [String(owner), String(neighbour)], adminIds: [], ratePerMin: 60 },
      vault: null,
      logger: silentLogger(),
      relay: { retryMs: 100 },
    });
  });
  afterAll(async () => {
    await bot?.stop();
    await botLog?.close();
    await fake?.close();
  });

  /** The newest message to `chatId` whose text matches. */
  const sentMatching = (chatId: number, pattern: RegExp): SentMessage | undefined =>
    [...fake.sent].reverse().find((m) => m.chat_id === chatId && pattern.test(m.text));
  const buttons = (m: SentMessage | undefined): Map<string, string> =>
    new Map((m?.reply_markup?.inline_keyboard ?? []).flat().map((b) => [b.text, b.callback_data ?? '']));
  const press = (userId: number, data: string, chatId: number, messageId: number, expected: RegExp): Promise<string> =>
    pressButton(fake, userId, data, { chatId, messageId }, expected);
  const appended = async (type: string): Promise<number> =>
    (await commandsInStream(harness().prefix)).filter((c) => c.userId === `tg${owner}` && c.type === type).length;

  it('puts the keyboard under /start and /help, and under /status with the actions the session allows', async () => {
    for (const command of ['/start', '/help']) {
      await converse(fake, owner, command, /^Quant Engine bot\./);
      expect([...buttons(sentMatching(owner, /^Quant Engine bot\./)).keys()]).toEqual(['📊 Status', '💰 Profit', '📅 Daily', '🛑 Stop']);
    }
    await converse(fake, owner, '/status', /^No session\./);
    expect([...buttons(sentMatching(owner, /^No session\./)).keys()]).toEqual(['📊 Status', '💰 Profit', '📅 Daily']);

    await converse(fake, owner, '/session paper 900', /^✅ Session started/);
    await converse(fake, owner, '/status', /^📊 <b>Status<\/b>/);
    const status = sentMatching(owner, /^📊 <b>Status<\/b>/);
    expect([...buttons(status).keys()]).toEqual(['📊 Status', '💰 Profit', '📅 Daily', '⏸ Pause', '🛑 Stop']);
    // /positions and /pnl are views of their own: no keyboard.
    await converse(fake, owner, '/pnl', /^💰 PnL/);
    expect(sentMatching(owner, /^💰 PnL/)?.reply_markup).toBeUndefined();
  });

  it('a press does what the command does: Pause, then Status with Resume; Profit and Daily; Stop asks first; each press its own command', async () => {
    const status = sentMatching(owner, /^📊 <b>Status<\/b>/);
    const keys = buttons(status);
    const at = status?.message_id ?? -1;

    await press(owner, keys.get('⏸ Pause') ?? '', owner, at, /^✅ Paused: no new entries/);
    expect(await appended('session.pause')).toBe(1);

    const statusesBefore = await appended('status');
    await press(owner, keys.get('📊 Status') ?? '', owner, at, /^📊 <b>Status<\/b>.*paused/);
    await press(owner, keys.get('📊 Status') ?? '', owner, at, /^📊 <b>Status<\/b>.*paused/);
    expect(await appended('status')).toBe(statusesBefore + 2); // two presses of one button: two commands
    expect([...buttons(sentMatching(owner, /^📊 <b>Status<\/b>/)).keys()]).toEqual(['📊 Status', '💰 Profit', '📅 Daily', '▶️ Resume', '🛑 Stop']);

    await press(owner, keys.get('💰 Profit') ?? '', owner, at, /^💹 <b>Profit<\/b>\nNo closed trades yet/);
    await press(owner, keys.get('📅 Daily') ?? '', owner, at, /^📅 <b>Daily/);

    await press(owner, keys.get('🛑 Stop') ?? '', owner, at, /^🛑 <b>Stop your session\?<\/b>/);
    expect(await appended('session.stop')).toBe(0); // asked, not sent
    expect(buttons(sentMatching(owner, /^🛑 <b>Stop your session\?/)).get('✅ Confirm')).toMatch(/^cf:[0-9a-f]{16}$/);
  });

  it('refuses a press of another user’s button: a toast, nothing appended', async () => {
    const keys = buttons(sentMatching(owner, /^📊 <b>Status<\/b>/));
    const answersBefore = fake.callbackAnswers.length;
    const pausesBefore = await appended('session.resume');
    fake.pushCallback(neighbour, keys.get('▶️ Resume') ?? '', { chatId: neighbour, messageId: 1 });
    await waitFor('the toast', () => fake.callbackAnswers.slice(answersBefore).find((a) => a.text === 'This button is not yours: send /help for your own.'));
    expect(await appended('session.resume')).toBe(pausesBefore);
    expect((await commandsInStream(harness().prefix)).filter((c) => c.userId === `tg${neighbour}`)).toEqual([]);
  });

  it('words refusals from the catalogue in the chat: a typo gets a suggestion, key storage off says so; nothing appended', async () => {
    const before = (await commandsInStream(harness().prefix)).length;
    await converse(fake, neighbour, '/stauts', /^⚠️ Unknown command \/stauts\. Did you mean \/status\? Send \/help for the list\.$/);
    await converse(fake, neighbour, '/daily 0', /^⚠️ days must be a whole number from 1 to 90, got "0"\. Usage: \/daily \[days\]$/);
    await converse(fake, neighbour, '/disconnect', /^🔒 Key storage is not configured on this engine; no keys are stored\.$/);
    await converse(fake, neighbour, '/session live 100', /^⚠️ A live session trades with your own Binance keys, and none are stored for you/);
    expect((await commandsInStream(harness().prefix)).length).toBe(before);
  });
});
