import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import type { FillGroups } from '../../src/services/telegram/fill-groups.js';
import type { FillNotice } from '../../src/contract/outbound.js';
import { addFill, averagePrice, dueFillChats, fillGroupWindowMs } from '../../src/services/telegram/fill-groups.js';
import type { TelegramBotHandle } from '../../src/services/telegram/run-telegram.js';
import { startTelegramBot } from '../../src/services/telegram/run-telegram.js';
import { silentLogger } from '../../src/util/logger.js';
import { applyNotify, createDigests, digestIntervalMs, modeFor, parseNotifyArgs } from '../../src/services/telegram/notify.js';
import type { NotifyStore } from '../../src/services/telegram/notify-store.js';
import { createNotifySettings, openNotifyStore, redisNotifyStore } from '../../src/services/telegram/notify-store.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { converse } from './helpers.js';
import type { FakeTelegram } from '../support/fake-telegram-api.js';
import { startFakeTelegram } from '../support/fake-telegram-api.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

// Notifications the user controls (issue 15 item 1): fill alerts grouped per user, one message per order per
// window, and /notify per alert type (on, silent, off, digest) stored durably in Redis. The pure parts first,
// then the real bot and relay (Redis stream and hash, grammY, a Bot API stand-in) with a simulated clock.

/** A typed fill notice (the contract's FillNotice), as `BUY 0.1 BTCUSDT @ 100.1 (entry, o1)` would say it; no fee or liquidity unless given. */
const fill = (words: string, more: Partial<FillNotice> = {}): FillNotice => {
  const [side, qty, symbol, , price, purpose, clientOrderId] = words.replace(/[(),]/g, '').split(' ');
  if (side !== 'BUY' && side !== 'SELL') throw new Error(`not a fill: ${words}`);
  if (!qty || !symbol || !price || !purpose || !clientOrderId) throw new Error(`not a fill: ${words}`);
  return { sessionStartedAtMs: 1, symbol, side, clientOrderId, purpose, qty, price, fee: null, liquidity: null, ...more };
};

describe('fill groups (pure)', () => {
  it('sums the commission while every fill reports one in the same asset, and says maker, taker or mixed', () => {
    const state: FillGroups = new Map();
    const usdt = (amount: string) => ({ fee: { amount, asset: 'USDT' } });
    addFill(state, 1, fill('BUY 0.1 BTCUSDT @ 100 (entry, o1)', { ...usdt('0.002'), liquidity: 'maker' }), 0);
    addFill(state, 1, fill('BUY 0.1 BTCUSDT @ 100 (entry, o1)', { ...usdt('0.004'), liquidity: 'maker' }), 1);
    addFill(state, 1, fill('BUY 0.1 ETHUSDT @ 10 (entry, o2)', { ...usdt('0.1'), liquidity: 'maker' }), 2);
    addFill(state, 1, fill('BUY 0.1 ETHUSDT @ 10 (entry, o2)', { fee: { amount: '0.0001', asset: 'BNB' }, liquidity: 'taker' }), 3);
    addFill(state, 1, fill('SELL 1 SOLUSDT @ 150 (exit, o3)', { ...usdt('0.06'), liquidity: 'taker' }), 4);
    addFill(state, 1, fill('SELL 1 SOLUSDT @ 150 (exit, o3)'), 5);
    const groups = state.get(1)?.groups;
    expect(groups?.get('o1')).toMatchObject({ fee: { amount: '0.006', asset: 'USDT' }, liquidity: 'maker' });
    expect(groups?.get('o2')).toMatchObject({ fee: null, liquidity: 'mixed' });
    expect(groups?.get('o3')).toMatchObject({ fee: null, liquidity: null });
  });

  it('sums quantities exactly, averages by quantity, and is due once the window has passed', () => {
    const state: FillGroups = new Map();
    const t0 = 1_000_000;
    addFill(state, 1, fill('BUY 0.1 BTCUSDT @ 100.1 (entry, o1)'), t0);
    addFill(state, 1, fill('BUY 0.2 BTCUSDT @ 100.2 (entry, o1)'), t0 + 10);
    addFill(state, 2, fill('SELL 3 ETHUSDT @ 2000 (exit, o2)'), t0 + 20);
    const g = state.get(1)?.groups.get('o1');
    expect(g).toMatchObject({ count: 2, totalQty: '0.3' }); // exact: not 0.30000000000000004
    // (0.1×100.1 + 0.2×100.2) / 0.3 = 100.1666…, shown two digits finer than the prices
    expect(g && averagePrice(g)).toBe('100.167');
    expect(dueFillChats(state, t0 + fillGroupWindowMs - 1)).toEqual([]);
    expect(dueFillChats(state, t0 + fillGroupWindowMs)).toEqual([1]);
    expect(dueFillChats(state, t0 + 20 + fillGroupWindowMs)).toEqual([1, 2]);
  });
});

describe('notification settings (pure)', () => {
  it('parses types and modes, keeps risk alerts on, and stores only what differs from on', () => {
    expect(parseNotifyArgs([])).toEqual({ kind: 'show' });
    expect(parseNotifyArgs(['fills', 'digest'])).toEqual({ kind: 'set', kinds: ['fill'], mode: 'digest' });
    expect(parseNotifyArgs(['Horizon', 'SILENT'])).toEqual({ kind: 'set', kinds: ['horizon'], mode: 'silent' });
    expect(parseNotifyArgs(['stop_loss', 'off'])).toEqual({ kind: 'always_on', alertKind: 'stop_loss' });
    expect(parseNotifyArgs(['kill_switch', 'on'])).toEqual({ kind: 'set', kinds: ['kill_switch'], mode: 'on' });
    expect(parseNotifyArgs(['fills', 'loud'])).toEqual({ kind: 'error', problem: 'mode', got: 'loud' });
    expect(parseNotifyArgs(['nonsense', 'off'])).toEqual({ kind: 'error', problem: 'type', got: 'nonsense' });
    expect(parseNotifyArgs(['fills'])).toEqual({ kind: 'error', problem: 'shape', got: '' });
    const all = parseNotifyArgs(['all', 'off']);
    expect(all.kind === 'set' && all.kinds).not.toContain('halt');
    const prefs = applyNotify(applyNotify({}, ['fill', 'horizon'], 'digest'), ['horizon'], 'on');
    expect(prefs).toEqual({ fill: 'digest' });
    expect(modeFor({ ...prefs, halt: 'off' }, 'halt')).toBe('on'); // even a tampered store cannot mute a risk alert
  });

  it('collects digest lines within bounds and is due after the interval', () => {
    const digests = createDigests(1_000, 2);
    digests.add(5, 'a', 0);
    digests.add(5, 'b', 10);
    digests.add(5, 'c', 20);
    expect(digests.due(999)).toEqual([]);
    expect(digests.due(1_000)).toEqual([5]);
    expect(digests.take(5)).toEqual({ openedAtMs: 0, lines: ['a', 'b'], dropped: 1 });
    expect(digests.take(5)).toBeNull();
  });
});

describe('notification settings in SQLite', () => {
  it('are kept in the bot’s SQLite file across a reopen, beside the key store’s table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qe-notify-'));
    try {
      const path = join(dir, 'engine.sqlite');
      const first = await openNotifyStore({ sqlitePath: path });
      await createNotifySettings(first).set('tg9', { fill: 'digest', horizon: 'off' });
      await first.close();
      const again = await openNotifyStore({ sqlitePath: path });
      expect(await createNotifySettings(again).get('tg9')).toEqual({ fill: 'digest', horizon: 'off' });
      expect(await createNotifySettings(again).get('tg10')).toEqual({});
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fills and alerts through the relay', () => {
  const token = '515151:telegram-fill-groups-token';
  const prefix = uniquePrefix('tg-fills');
  const alice = 301;
  const bob = 302;
  const carol = 303;
  const dave = 304;
  let notifyStore: NotifyStore;
  let fake: FakeTelegram;
  let log: EngineLog;
  let bot: TelegramBotHandle;
  let nowMs = Date.UTC(2030, 5, 1);

  const alert = (userId: number, kind: string, message: string): string => JSON.stringify({ type: 'alert', userId: `tg${userId}`, kind, message, atMs: nowMs });
  /** A fill alert as the engine writes it: worded, with the typed notice the relay groups by. */
  const fillAlert = (userId: number, words: string, more: Partial<FillNotice> = {}): string =>
    JSON.stringify({ type: 'alert', userId: `tg${userId}`, kind: 'fill', message: words, atMs: nowMs, fill: fill(words, more) });
  const publish = (...events: string[]): Promise<string[]> => log.commit({ wal: [], outbound: events, ack: [], deadLetters: [] });

  beforeAll(async () => {
    fake = await startFakeTelegram({ token });
    log = await openRedisLog({ url: redisUrl, prefix });
    await log.init();
    notifyStore = await redisNotifyStore(redisUrl, prefix);
    await startBot();
  });
  async function startBot(): Promise<void> {
    bot = await startTelegramBot({
      log,
      token,
      apiRoot: fake.apiRoot,
      access: { userIds: [String(alice), String(bob), String(carol), String(dave)], adminIds: [], ratePerMin: 20 },
      vault: null,
      logger: silentLogger(),
      clock: () => nowMs,
      relay: { retryMs: 100, blockMs: 100 },
      notifyStore,
    });
  }
  afterAll(async () => {
    await bot?.stop();
    await notifyStore?.close();
    await log?.close();
    await fake?.close();
    await deletePrefix(prefix);
  });

  it('sends one message per order with count, total and average, before a later alert, or once the window has passed', async () => {
    await publish(
      fillAlert(alice, 'BUY 0.001 BTCUSDT @ 50000 (entry, qe-a-1)', { fee: { amount: '0.1', asset: 'USDT' }, liquidity: 'taker' }),
      fillAlert(alice, 'BUY 0.002 BTCUSDT @ 50003 (entry, qe-a-1)', { fee: { amount: '0.2', asset: 'USDT' }, liquidity: 'taker' }),
      fillAlert(bob, 'SELL 0.5 ETHUSDT @ 3000.25 (exit, qe-b-1)'),
      fillAlert(alice, 'BUY 0.003 BTCUSDT @ 50001 (entry, qe-a-1)', { fee: { amount: '0.3', asset: 'USDT' }, liquidity: 'taker' }),
      fillAlert(alice, 'SELL 1 SOLUSDT @ 150.5 (entry, qe-a-2)'),
      // A fill alert from an engine before typed notices: its wording is not parsed, it goes out on its own.
      alert(carol, 'fill', 'BUY 1 XRPUSDT @ 0.5 (entry, qe-c-1)'),
      // Entries are relayed in order: once carol has this, every fill above was collected.
      alert(carol, 'horizon', 'horizon reached; flattening'),
    );
    await waitFor('carol’s alerts', () => fake.messages(carol).length === 2);
    expect(fake.messages(carol)[0]).toMatch(/Alert \(fill\): BUY 1 XRPUSDT @ 0\.5 \(entry, qe-c-1\)$/);
    expect(fake.messages(alice)).toEqual([]);
    expect(fake.messages(bob)).toEqual([]);

    // A non-fill alert for alice: her fills go first, one message per order, then the alert.
    await publish(alert(alice, 'stop_loss', 'stop-loss hit: equity 940.00 below floor 950.00; flattening'));
    await waitFor('alice’s stop-loss alert', () => fake.messages(alice).length === 3);
    const [btc, sol, stop] = fake.messages(alice);
    // (0.001×50000 + 0.002×50003 + 0.003×50001) / 0.006 = 50001.5
    expect(btc).toBe('✅ <b>BUY 0.006 BTCUSDT</b> filled in 3 fills, avg price 50001.5 (entry, taker, fee 0.6 USDT, order qe-a-1)');
    expect(sol).toBe('✅ <b>SELL 1 SOLUSDT</b> filled @ 150.5 (entry, order qe-a-2)');
    expect(stop).toMatch(/^🛑 Alert \(stop_loss\): stop-loss hit/);
    expect(fake.sent.filter((m) => m.chat_id === alice).every((m) => m.parse_mode === 'HTML')).toBe(true);

    // Bob's lone fill waits for the window (simulated clock), then goes on the relay's next round.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.messages(bob)).toEqual([]);
    nowMs += fillGroupWindowMs;
    await waitFor('bob’s grouped fill', () => fake.messages(bob).length === 1);
    expect(fake.messages(bob)).toEqual(['✅ <b>SELL 0.5 ETHUSDT</b> filled @ 3000.25 (exit, order qe-b-1)']);
  });

  it('/notify: off drops, silent sends without sound, digest collects (sent on /digest or hourly), risk alerts always on; kept across a restart', async () => {
    await converse(fake, dave, '/notify fills digest', /^🔔 fill: digest \(collected, sent hourly or on \/digest\)\.$/);
    await converse(fake, dave, '/notify horizon silent', /^🔔 horizon: silent \(no sound\)\.$/);
    await converse(fake, dave, '/notify reconcile off', /^🔔 reconcile: off\.$/);
    await converse(
      fake,
      dave,
      '/notify stop_loss off',
      /^⚠️ stop_loss alerts are always on and cannot be silenced or switched off\. Always on, with sound: stop_loss, kill_switch, exchange_close, account, halt/,
    );
    await converse(fake, dave, '/notify fills loud', /^⚠️ Mode must be one of on, silent, off, digest/);

    const before = fake.messages(dave).length;
    await publish(
      fillAlert(dave, 'BUY 2 XRPUSDT @ 0.5 (entry, qe-d-1)'),
      fillAlert(dave, 'BUY 2 XRPUSDT @ 0.6 (entry, qe-d-1)'),
      alert(dave, 'reconcile', 'the account also holds 1 BNBUSDT'),
      alert(dave, 'horizon', 'horizon reached; flattening'),
      alert(dave, 'stop_loss', 'stop-loss hit; flattening'),
    );
    await waitFor('the stop-loss alert', () =>
      fake
        .messages(dave)
        .slice(before)
        .some((m) => m.includes('(stop_loss)')),
    );
    const got = fake.sent.filter((m) => m.chat_id === dave).slice(before);
    expect(got.map((m) => m.text)).toEqual(['⏰ Alert (horizon): horizon reached; flattening', '🛑 Alert (stop_loss): stop-loss hit; flattening']);
    expect(got.map((m) => m.disable_notification ?? false)).toEqual([true, false]);

    const digest = await converse(fake, dave, '/digest', /^🗞 <b>Digest<\/b>/);
    expect(digest).toBe('🗞 <b>Digest</b> (1 notification)\n✅ <b>BUY 4 XRPUSDT</b> filled in 2 fills, avg price 0.55 (entry, order qe-d-1)');
    await converse(fake, dave, '/digest', /^🗞 Nothing collected for your digest/);

    // A restart keeps the settings (Redis hash); the digest goes out by itself after the interval.
    await bot.stop();
    await startBot();
    const shown = await converse(fake, dave, '/notify', /^🔔 <b>Notifications<\/b>/);
    expect(shown).toMatch(/^fill: digest/m);
    expect(shown).toMatch(/^horizon: silent/m);
    expect(shown).toMatch(/^reconcile: off$/m);
    const beforeHour = fake.messages(dave).length;
    await publish(fillAlert(dave, 'SELL 4 XRPUSDT @ 0.7 (exit, qe-d-2)'));
    nowMs += fillGroupWindowMs; // the group closes into the digest…
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(fake.messages(dave).length).toBe(beforeHour);
    nowMs += digestIntervalMs; // …which is sent an hour after its first line
    const hourly = await waitFor('the hourly digest', () =>
      fake
        .messages(dave)
        .slice(beforeHour)
        .find((m) => m.startsWith('🗞 <b>Digest</b>')),
    );
    expect(hourly).toContain('✅ <b>SELL 4 XRPUSDT</b> filled @ 0.7 (exit, order qe-d-2)');
  });
});
