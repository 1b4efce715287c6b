import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import type { TelegramBotHandle } from '../../src/services/telegram/run-telegram.js';
import { startTelegramBot } from '../../src/services/telegram/run-telegram.js';
import { confirmationTtlMs } from '../../src/services/telegram/confirm.js';
import { silentLogger } from '../../src/util/logger.js';
import type { FakeTelegram } from '../support/fake-telegram-api.js';
import { startFakeTelegram } from '../support/fake-telegram-api.js';
import { commandId, useHarness } from '../support/harness.js';
import { allOutbound } from '../support/outbound.js';
import { redisUrl } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { allWal, commandsInStream, converse, count, telegramPendingCount, pressButton } from './helpers.js';

// The real grammY bot (runner, sequentialize, auto-retry) against a fake Bot API server and the real engine
// (Redis Streams, simulator, execution service).

const token = '424242:telegram-bot-test-token-xyz';
const trader = 111;
const adminUser = 222;
const stranger = 999;
const pendingUser = 444;
const retryUser = 555;
const chattyUser = 666;
const neighbour = 333;
const holder = 777;
const confirmUser = 888;
const ratePerMin = 20;

describe('telegram bot against the engine', () => {
  const harness = useHarness({ label: 'telegram', config: { adminUserIds: ['operator', `tg${adminUser}`] } });
  let fake: FakeTelegram;
  let botLog: EngineLog;
  let bot: TelegramBotHandle | null = null;
  let nowMs = Date.UTC(2030, 0, 1);

  async function startBot(): Promise<void> {
    bot = await startTelegramBot({
      log: botLog,
      token,
      apiRoot: fake.apiRoot,
      access: {
        userIds: [String(trader), String(pendingUser), String(retryUser), String(chattyUser), String(neighbour), String(holder), String(confirmUser)],
        adminIds: [String(adminUser)],
        ratePerMin,
      },
      vault: null,
      logger: silentLogger(),
      clock: () => nowMs,
      relay: { retryMs: 100 },
    });
  }

  async function stopBot(): Promise<void> {
    await bot?.stop();
    bot = null;
  }

  beforeAll(async () => {
    fake = await startFakeTelegram({ token });
    // The bot is its own process in production: its own connections to Redis, sharing only the prefix.
    botLog = await openRedisLog({ url: redisUrl, prefix: harness().prefix });
    await startBot();
  });
  afterAll(async () => {
    await stopBot();
    await botLog?.close();
    await fake?.close();
  });
  beforeEach(() => {
    nowMs += 3_600_000; // every test starts with full rate-limit buckets
  });
  afterEach(async () => {
    // A failed test must not leave the next one without a bot or with a failing Telegram.
    fake.failSendMessage(null);
    if (bot === null) await startBot();
  });

  it('refuses a user who is not on the allow-list, and nothing reaches the engine', async () => {
    await converse(fake, stranger, '/session paper 1000', /not on its list of users/);
    await converse(fake, stranger, '/halt_all', /not on its list of users/);
    const fromStranger = (await commandsInStream(harness().prefix)).filter((c) => JSON.stringify(c).includes(`tg${stranger}`));
    expect(fromStranger).toEqual([]);
    expect((await allWal(harness().log)).filter((w) => w.includes(`tg${stranger}`))).toEqual([]);
  });

  it('runs a session conversation: received, done, argument errors, status views, stop accepted then done', async () => {
    const prefix = harness().prefix;
    await converse(fake, trader, '/start', /\/session paper\|live <capitalUsd>/);
    await converse(fake, trader, '/session paper 1000', /^received ✓ \/session$/);
    await waitFor('session started', () => fake.messages(trader).find((m) => m.startsWith('✅ Session started: paper, capital $1,000.00')));
    const started = (await commandsInStream(prefix)).find((c) => c.type === 'session.start' && c.userId === `tg${trader}`);
    expect(started).toMatchObject({ mode: 'paper', capitalUsd: 1000, source: 'telegram' });
    expect(String(started?.id)).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);

    const appendedBefore = (await commandsInStream(prefix)).length;
    await converse(fake, trader, '/set_stoploss abc', /⚠️ Stop-loss % must be a number, got "abc"/);
    await converse(fake, trader, '/session paper', /⚠️ Capital is missing/);
    await converse(fake, trader, '/halt_all', /admins only/);
    await converse(fake, trader, '/session live 1000', /none are stored for you: send \/connect <apiKey> <apiSecret> first/); // no keys stored
    expect((await commandsInStream(prefix)).length).toBe(appendedBefore);

    await converse(fake, trader, '/set_stoploss 5', /^✅ Stop-loss set to 5% of capital\.$/);
    const status = await converse(fake, trader, '/status', /^📊 <b>Status<\/b>/);
    expect(status).toContain('paper session, active');
    expect(status).toContain('Capital: $1,000.00');
    expect(status).toContain('Stop-loss: 5%');
    const pnl = await converse(fake, trader, '/pnl', /^💰 PnL/);
    expect(pnl).toMatch(/Equity: \$[\d,.]+ \(capital \$1,000.00/);
    await converse(fake, trader, '/positions', /^📂 Positions/);

    await converse(fake, trader, '/session paper 2000', /^❌ <b>\/session<\/b> refused: a session is already active/);

    const beforeStop = fake.messages(trader).length;
    fake.pushText(trader, '/stop confirm');
    await waitFor('stop done', () =>
      fake
        .messages(trader)
        .slice(beforeStop)
        .find((m) => m.startsWith('✅ Session closed, flat.')),
    );
    const afterStop = fake.messages(trader).slice(beforeStop);
    expect(afterStop).toContain('received ✓ /stop');
    // accepted first, then done (both relayed in stream order)
    const accepted = afterStop.findIndex((m) => m.startsWith('⏳ Stopping'));
    const done = afterStop.findIndex((m) => m.startsWith('✅ Session closed'));
    expect(accepted).toBeGreaterThanOrEqual(0);
    expect(accepted).toBeLessThan(done);
    expect(fake.calls.some((c) => c.method === 'setMyCommands')).toBe(true);
  });

  it("shows a trader's status, exits one symbol, and answers /profit, /performance and /daily from the ledger, in HTML", async () => {
    const h = harness();
    await converse(fake, holder, '/session paper -5', /^⚠️ Capital must be a positive number, got "-5"/);
    await converse(fake, holder, '/session paper 10000 5 8', /^✅ Session started: paper, capital \$10,000\.00/);
    h.sim.faults.forcePostOnlyReject = true; // the bounded IOC fallback fills at once
    await h.send({
      id: commandId('route'),
      userId: 'signals',
      type: 'signals.route',
      userIds: [`tg${holder}`],
      signals: [
        { symbol: 'BTCUSDT', weight: 0.2 },
        { symbol: 'ETHUSDT', weight: 0.2 },
      ],
    });
    const held = (symbol: string): string | undefined => h.service.engine.current.durable.sessions.get(`tg${holder}`)?.positions[symbol]?.qty;
    await waitFor('both positions', () => Number(held('BTCUSDT') ?? 0) > 0 && Number(held('ETHUSDT') ?? 0) > 0);
    h.sim.faults.forcePostOnlyReject = false;

    const status = await converse(fake, holder, '/status', /^📊 <b>Status<\/b>/);
    expect(status).toMatch(/^📊 <b>Status<\/b>: paper session, active, running (&lt; 1m|1m)$/m);
    expect(status).toMatch(/^Stop-loss: 5% — floor \$9,500\.00, equity \$[\d,.]+ above it$/m);
    expect(status).toMatch(/^Horizon: flattens in 7h 59m$/m);
    expect(status).toMatch(/^ {2}<b>BTCUSDT<\/b> long [\d.]+ @ [\d.]+ · mark [\d.]+ \(bid\) · \$[\d,.]+ · uPnL [+-]?\$[\d.]+$/m);
    expect(fake.sent.find((m) => m.text === status)?.parse_mode).toBe('HTML');

    await converse(fake, holder, '/exit btcusdt', /^received ✓ \/exit$/);
    await waitFor('the exit answered', () => fake.messages(holder).find((m) => /^✅ Closing <b>BTCUSDT<\/b>: [\d.]+ at market \(reduce-only\)/.test(m)));
    await waitFor('BTCUSDT flat', () => held('BTCUSDT') === '0');
    expect(Number(held('ETHUSDT'))).toBeGreaterThan(0);
    await converse(fake, holder, '/exit BTCUSDT', /^❌ <b>\/exit<\/b> refused: you hold no BTCUSDT position and have no open BTCUSDT order\.$/);

    const profit = await waitFor('the closed trade in /profit', async () => {
      const text = await converse(fake, holder, '/profit', /^💹 <b>Profit<\/b>/);
      return /^Trades: 1 · /m.test(text) ? text : undefined;
    });
    expect(profit).toMatch(/^Best: BTCUSDT [+-]?\$[\d.]+ \(1 trade\)$/m);
    expect(profit).toMatch(/^Open trades: 1$/m);
    await converse(fake, holder, '/performance', /^🏁 <b>Performance<\/b> per symbol[\s\S]*\n1\. <b>BTCUSDT<\/b>/);
    await converse(fake, holder, '/daily 3', /^📅 <b>Daily profit<\/b> \(UTC, last 3 days\)\n<pre>/);
    // Reads computed by the bot get no "received"; the changes (/session, /exit twice) did.
    expect(count(fake, holder, /^received ✓/)).toBe(3);
    expect(fake.calls.filter((c) => c.method === 'sendMessage' && c.params.parse_mode === 'HTML').length).toBeGreaterThan(5);
    await converse(fake, holder, '/stop confirm', /^✅ Session closed, flat\./);
  });

  it("asks before /stop and /halt_all: only the asker's Confirm within the bound sends it; Cancel, stale and foreign presses send nothing", async () => {
    const prefix = harness().prefix;
    const sentStops = async (userId: number, type: string): Promise<number> =>
      (await commandsInStream(prefix)).filter((c) => c.userId === `tg${userId}` && c.type === type).length;
    /** Asks with `text`; returns the question's message id and its Confirm / Cancel callback data. */
    async function ask(userId: number, text: string, question: RegExp): Promise<{ messageId: number; confirm: string; cancel: string }> {
      const shown = await converse(fake, userId, text, question);
      const message = [...fake.sent].reverse().find((m) => m.chat_id === userId && m.text === shown); // every question reads the same: the newest
      const [confirm, cancel] = message?.reply_markup?.inline_keyboard?.[0] ?? [];
      expect(message?.parse_mode).toBe('HTML');
      expect(confirm?.text).toBe('✅ Confirm');
      expect(cancel?.text).toBe('✖️ Cancel');
      return { messageId: message?.message_id ?? -1, confirm: confirm?.callback_data ?? '', cancel: cancel?.callback_data ?? '' };
    }
    const press = (userId: number, data: string, chatId: number, messageId: number, expected: RegExp): Promise<string> =>
      pressButton(fake, userId, data, { chatId, messageId }, expected);

    await converse(fake, confirmUser, '/session paper 800', /^✅ Session started: paper, capital \$800\.00/);
    const first = await ask(confirmUser, '/stop', /^🛑 <b>Stop your session\?<\/b>[\s\S]*within 60 s \(or send \/stop confirm\)/);
    expect(first.confirm).toMatch(/^cf:[0-9a-f]{16}$/);
    expect(await sentStops(confirmUser, 'session.stop')).toBe(0); // asking sends nothing

    // Cancel: nothing sent; the same question's Confirm is used up.
    await press(confirmUser, first.cancel, confirmUser, first.messageId, /^✖️ \/stop cancelled: nothing was sent/);
    await press(confirmUser, first.confirm, confirmUser, first.messageId, /^⌛ That confirmation has expired or was already used/);

    // Past the bound: refused.
    const late = await ask(confirmUser, '/stop', /^🛑 <b>Stop your session\?/);
    nowMs += confirmationTtlMs + 1;
    await press(confirmUser, late.confirm, confirmUser, late.messageId, /^⌛ That confirmation has expired/);

    // Another user pressing the owner's button: refused, and the owner's token stays good.
    const third = await ask(confirmUser, '/stop', /^🛑 <b>Stop your session\?/);
    await press(neighbour, third.confirm, confirmUser, third.messageId, /^This button is not yours\.$/);
    expect(await sentStops(confirmUser, 'session.stop')).toBe(0);
    expect(await sentStops(neighbour, 'session.stop')).toBe(0);
    expect(fake.callbackAnswers.map((a) => a.text)).toContain('This button is not yours.');

    // The owner within the bound: sent, received, done.
    nowMs += confirmationTtlMs - 1_000;
    await press(confirmUser, third.confirm, confirmUser, third.messageId, /^received ✓ \/stop$/);
    await waitFor('the session closed', () => fake.messages(confirmUser).find((m) => m.startsWith('✅ Session closed, flat.')));
    expect(await sentStops(confirmUser, 'session.stop')).toBe(1);
    expect(fake.calls.some((c) => c.method === 'editMessageReplyMarkup')).toBe(true); // the buttons go after a press

    // /halt_all asks the admin the same way; Cancel sends nothing.
    const halt = await ask(adminUser, '/halt_all drill', /^⛔ <b>Halt all trading\?<\/b>/);
    await press(adminUser, halt.cancel, adminUser, halt.messageId, /^✖️ \/halt_all cancelled/);
    expect(await sentStops(adminUser, 'admin.halt_all')).toBe(0);
  });

  it("acts only on the sender's own session: another user's /stop and /pause cannot reach it", async () => {
    const h = harness();
    await converse(fake, trader, '/session paper 700', /^✅ Session started: paper, capital \$700.00/);
    await converse(
      fake,
      neighbour,
      '/stop confirm',
      /^❌ <b>\/stop<\/b> refused: no running session; start one first\. Start one with \/session paper &lt;capitalUsd&gt;\.$/,
    );
    await converse(fake, neighbour, '/pause', /^❌ <b>\/pause<\/b> refused: no running session/);
    const mine = h.service.engine.current.durable.sessions.get(`tg${trader}`);
    expect(mine).toMatchObject({ status: 'active', paused: false });
    expect((await commandsInStream(h.prefix)).filter((c) => c.userId === `tg${neighbour}`).map((c) => c.type)).toEqual(['session.stop', 'session.pause']);
    await converse(fake, trader, '/stop confirm', /^✅ Session closed, flat\./);
  });

  it('lets admins use admin commands', async () => {
    await converse(fake, adminUser, '/users', /^👥 Users/);
    const approved = await converse(fake, adminUser, '/approve_live 777', /live trading approved/);
    expect(approved).toContain('tg777');
    expect((await commandsInStream(harness().prefix)).find((c) => c.type === 'admin.approve_live')).toMatchObject({
      userId: `tg${adminUser}`,
      targetUserId: 'tg777',
      approved: true,
    });
  });

  it('delivers an alert produced while the bot was down after it restarts, exactly once', async () => {
    const h = harness();
    await converse(fake, trader, '/session paper 500', /^✅ Session started: paper, capital \$500.00/);
    const receivedBefore = count(fake, trader, /^received ✓/);
    const pnlBefore = count(fake, trader, /^💰 PnL/);
    await stopBot();
    expect(fake.unconfirmedUpdates()).toBe(0); // handled updates are confirmed: a restart does not redo them

    const reason = `maintenance-${commandId('r')}`;
    const haltId = await h.send({ id: commandId('halt'), userId: 'operator', type: 'admin.halt_all', reason });
    await h.reply(haltId, 'done');
    expect((await allOutbound(h.log)).some((e) => e.type === 'alert' && e.userId === `tg${trader}` && e.message.includes(reason))).toBe(true);
    const alertText = new RegExp(`⛔ Alert \\(halt\\): trading halted by an operator \\(${reason}\\)`);
    expect(count(fake, trader, alertText)).toBe(0);

    await startBot();
    await waitFor('the halt alert after the restart', () => count(fake, trader, alertText) === 1);
    // Everything before a fresh reply has been relayed once the reply arrives: no second copy may follow.
    await converse(fake, trader, '/pnl', /^💰 PnL/);
    expect(count(fake, trader, alertText)).toBe(1);
    // Only the /pnl was handled since (a read: answered, with no "received"): nothing handled twice.
    expect(count(fake, trader, /^received ✓/)).toBe(receivedBefore);
    expect(count(fake, trader, /^💰 PnL/)).toBe(pnlBefore + 1);

    // A second restart must not deliver it again (it was acknowledged).
    await stopBot();
    await startBot();
    await converse(fake, trader, '/pnl', /^💰 PnL/);
    expect(count(fake, trader, alertText)).toBe(1);

    const resumeId = await h.send({ id: commandId('resume'), userId: 'operator', type: 'admin.resume_all' });
    await h.reply(resumeId, 'done');
    await converse(fake, trader, '/stop confirm', /^✅ Session closed, flat\./);
  });

  it('keeps a message Telegram failed to accept pending and delivers it after a restart', async () => {
    const h = harness();
    fake.failSendMessage({ kind: 'server_error', times: 1_000_000, chatId: pendingUser });
    // Straight to the engine (not through the bot): the only send attempts to this chat are the relay's.
    const statusId = await h.send({ id: commandId('st'), userId: `tg${pendingUser}`, type: 'status' });
    await h.reply(statusId, 'done');
    await waitFor('the relay tried and failed', () => fake.refusedSends(pendingUser) > 0);
    await stopBot();
    expect(await telegramPendingCount(h.prefix)).toBeGreaterThan(0);
    expect(fake.messages(pendingUser)).toEqual([]);

    fake.failSendMessage(null);
    await startBot();
    await waitFor('the pending reply', () => fake.messages(pendingUser).length === 1);
    await converse(fake, pendingUser, '/help', /^Quant Engine bot/);
    expect(fake.messages(pendingUser).filter((m) => m.includes('No session'))).toHaveLength(1);
    await waitFor('nothing pending', async () => (await telegramPendingCount(h.prefix)) === 0);
  });

  it('retries a send Telegram rate-limited (429 retry_after)', async () => {
    fake.failSendMessage({ kind: 'rate_limit', retryAfterSeconds: 1, times: 1, chatId: retryUser });
    await converse(fake, retryUser, '/help', /^Quant Engine bot/);
    expect(fake.refusedSends(retryUser)).toBe(1);
    expect(fake.messages(retryUser)).toHaveLength(1);
  });

  it('tells a user to slow down past the rate limit and appends nothing more', async () => {
    for (let i = 0; i < ratePerMin; i += 1) fake.pushText(chattyUser, '/help');
    await waitFor('every help answered', () => fake.messages(chattyUser).length === ratePerMin);
    await converse(fake, chattyUser, '/session paper 100', /^Slow down: too many commands/);
    // One notice per burst: more commands while refused get no answer at all (and are not sent).
    for (let i = 0; i < 5; i += 1) fake.pushText(chattyUser, '/session paper 100');
    // A /connect is deleted before the limit is checked: once its message is deleted, the five before it (one
    // chat, handled in order) were refused.
    const { messageId } = fake.pushText(chattyUser, '/connect SOMEKEYVALUE SOMESECRETVALUE');
    await waitFor('the /connect deleted', () => fake.deletedMessages.some((d) => d.message_id === messageId));
    nowMs += 60_000; // a minute later the bucket is full again
    await converse(fake, chattyUser, '/help', /^Quant Engine bot/); // handled after the five (one chat, in order)
    expect(count(fake, chattyUser, /^Slow down/)).toBe(1);
    expect((await commandsInStream(harness().prefix)).filter((c) => c.userId === `tg${chattyUser}`)).toEqual([]);
    // A read is answered by the engine directly: no "received" before it.
    await converse(fake, chattyUser, '/status', /^(📊 <b>Status<\/b>|No session)/);
    expect(count(fake, chattyUser, /^received ✓/)).toBe(0);
  });

  it('deletes a /connect message first and refuses when no master key is configured', async () => {
    const { messageId } = fake.pushText(trader, '/connect SOMEKEYVALUE SOMESECRETVALUE');
    await waitFor('refusal', () => fake.messages(trader).find((m) => /Key storage is not configured/.test(m)));
    expect(fake.deletedMessages).toContainEqual({ chat_id: trader, message_id: messageId });
    const deleteAt = fake.calls.findIndex((c) => c.method === 'deleteMessage' && c.params.message_id === messageId);
    const replyAt = fake.calls.findIndex((c) => c.method === 'sendMessage' && String(c.params.text).includes('Key storage is not configured'));
    expect(deleteAt).toBeGreaterThanOrEqual(0);
    expect(deleteAt).toBeLessThan(replyAt);
    expect(JSON.stringify(await commandsInStream(harness().prefix))).not.toContain('SOMEKEYVALUE');
  });
});
