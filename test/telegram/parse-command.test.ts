import { describe, expect, it } from 'vitest';
import { commandSchema } from '../../src/contract/commands.js';
import type { BotAction, Sender } from '../../src/services/telegram/parse-command.js';
import { isConnectCommand, parseBotCommand, splitCommand } from '../../src/services/telegram/parse-command.js';

const user: Sender = { telegramUserId: 111, chatId: 111, messageId: 42, isAdmin: false };
const admin: Sender = { telegramUserId: 222, chatId: 222, messageId: 7, isAdmin: true };

function parse(text: string, sender: Sender = user): BotAction {
  return parseBotCommand({ text, sender, botId: 7001, nowMs: 1_700_000_000_000 });
}

function engineCommand(text: string, sender: Sender = user): Record<string, unknown> {
  const action = parse(text, sender);
  if (action.kind !== 'engine') throw new Error(`expected an engine command for ${text}, got ${JSON.stringify(action)}`);
  // Whatever the bot builds must pass the engine's own schema.
  const checked = commandSchema.safeParse(action.command);
  if (!checked.success) throw new Error(`engine schema refuses ${text}: ${checked.error.message}`);
  return action.command;
}

function errorOf(text: string, sender: Sender = user): string {
  const action = parse(text, sender);
  if (action.kind !== 'error') throw new Error(`expected an error for ${text}, got ${JSON.stringify(action)}`);
  return action.message;
}

describe('telegram command parsing', () => {
  it('builds session.start with identity, source and a valid unique id', () => {
    const cmd = engineCommand('/session paper 1000 5 24');
    expect(cmd).toMatchObject({
      type: 'session.start',
      userId: 'tg111',
      source: 'telegram',
      mode: 'paper',
      capitalUsd: 1000,
      stopLossPct: 5,
      horizonHours: 24,
      issuedAtMs: 1_700_000_000_000,
    });
    expect(cmd.id).toBe('tg-7001-111-42');
    expect(String(cmd.id)).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
    expect(engineCommand('/session live 250.5')).toMatchObject({ mode: 'live', capitalUsd: 250.5 });
    expect(engineCommand('/session paper 1000')).not.toHaveProperty('stopLossPct');
  });

  it('maps every user command to its engine command', () => {
    expect(engineCommand('/stop')).toMatchObject({ type: 'session.stop' });
    expect(engineCommand('/pause')).toMatchObject({ type: 'session.pause' });
    expect(engineCommand('/resume')).toMatchObject({ type: 'session.resume' });
    expect(engineCommand('/set_stoploss 3.5')).toMatchObject({ type: 'session.set_stoploss', pct: 3.5 });
    expect(engineCommand('/set_stoploss 4%')).toMatchObject({ pct: 4 });
    expect(engineCommand('/set_horizon 12')).toMatchObject({ type: 'session.set_horizon', hours: 12 });
    expect(engineCommand('/trades')).toMatchObject({ type: 'trades', limit: 10 });
    expect(engineCommand('/trades 5')).toMatchObject({ type: 'trades', limit: 5 });
    expect(engineCommand('/exit btcusdt')).toMatchObject({ type: 'session.exit', symbol: 'BTCUSDT' });
    expect(parse('/profit')).toEqual({ kind: 'history', what: 'profit', days: 0 });
    expect(parse('/performance')).toEqual({ kind: 'history', what: 'performance', days: 0 });
    expect(parse('/daily')).toEqual({ kind: 'history', what: 'daily', days: 7 });
    expect(parse('/daily 30')).toEqual({ kind: 'history', what: 'daily', days: 30 });
  });

  it('sends status for /status, /positions and /pnl, remembering which view asked', () => {
    for (const view of ['status', 'positions', 'pnl'] as const) {
      const action = parse(`/${view}`);
      expect(action).toMatchObject({ kind: 'engine', view, command: { type: 'status' } });
    }
    expect(parse('/status@quant_engine_bot')).toMatchObject({ kind: 'engine', view: 'status' });
  });

  it('answers argument errors clearly instead of building a command', () => {
    expect(errorOf('/set_stoploss abc')).toMatch(/Stop-loss % must be a number, got "abc"/);
    expect(errorOf('/set_stoploss')).toMatch(/Stop-loss % is missing/);
    expect(errorOf('/set_stoploss 0')).toMatch(/above 0 and below 100/);
    expect(errorOf('/set_stoploss 100')).toMatch(/above 0 and below 100/);
    expect(errorOf('/set_stoploss 0x10')).toMatch(/must be a number/);
    expect(errorOf('/session paper')).toMatch(/Capital is missing/);
    expect(errorOf('/session moon 100')).toMatch(/paper or live/);
    expect(errorOf('/session paper -5')).toMatch(/^Capital must be a positive number, got "-5"\. Usage: \/session paper\|live/);
    expect(errorOf('/session paper 0')).toMatch(/^Capital must be a positive number\. Usage/);
    expect(errorOf('/exit')).toMatch(/Name one symbol\. Usage: \/exit <SYMBOL>/);
    expect(errorOf('/exit BTC/USDT')).toMatch(/like BTCUSDT/);
    expect(errorOf('/daily 0')).toMatch(/days must be a whole number from 1 to 90/);
    expect(errorOf('/profit now')).toMatch(/takes no arguments/);
    expect(errorOf('/session paper 1000 5 24 extra')).toMatch(/Too many arguments/);
    expect(errorOf('/set_horizon 99999')).toMatch(/at most 8784/);
    expect(errorOf('/trades 0')).toMatch(/1 to 100/);
    expect(errorOf('/trades 1000')).toMatch(/1 to 100/);
    expect(errorOf('/stop now')).toMatch(/takes no arguments/);
    expect(errorOf('/frobnicate')).toMatch(/Unknown command \/frobnicate/);
  });

  it('keeps admin commands for admins', () => {
    expect(errorOf('/halt_all exchange down')).toMatch(/admins only/);
    expect(errorOf('/users')).toMatch(/admins only/);
    expect(errorOf('/approve_live 333')).toMatch(/admins only/);
    expect(engineCommand('/halt_all exchange down', admin)).toMatchObject({ type: 'admin.halt_all', userId: 'tg222', reason: 'exchange down' });
    expect(engineCommand('/halt_all', admin)).not.toHaveProperty('reason');
    expect(engineCommand('/resume_all', admin)).toMatchObject({ type: 'admin.resume_all' });
    expect(engineCommand('/users', admin)).toMatchObject({ type: 'admin.users' });
    expect(engineCommand('/approve_live 333', admin)).toMatchObject({ type: 'admin.approve_live', targetUserId: 'tg333', approved: true });
    expect(engineCommand('/approve_live alice', admin)).toMatchObject({ targetUserId: 'alice' });
    expect(errorOf('/approve_live bad/user', admin)).toMatch(/A user is/);
  });

  it('handles /connect without ever echoing the credentials', () => {
    expect(parse('/connect KEY123 SECRET456')).toEqual({ kind: 'connect', apiKey: 'KEY123', apiSecret: 'SECRET456' });
    const bad = errorOf('/connect ONLYKEY123');
    expect(bad).not.toContain('ONLYKEY123');
    expect(isConnectCommand('/connect a b')).toBe(true);
    expect(isConnectCommand('/connect@bot a b')).toBe(true);
    expect(isConnectCommand('/disconnect')).toBe(false);
    expect(parse('/disconnect')).toEqual({ kind: 'disconnect' });
  });

  it('recognises help and plain text', () => {
    expect(parse('/start')).toEqual({ kind: 'help' });
    expect(parse('/help')).toEqual({ kind: 'help' });
    expect(parse('hello')).toEqual({ kind: 'not_a_command' });
    expect(splitCommand('/Set_Stoploss@bot  5 ')).toEqual({ name: 'set_stoploss', args: ['5'], rest: '5' });
  });

  it('keeps ids within the engine limit for long chat and message ids', () => {
    const action = parseBotCommand({
      text: '/stop',
      sender: { telegramUserId: 9_999_999_999, chatId: -1_009_999_999_999, messageId: 2_147_483_647, isAdmin: false },
      botId: 9_999_999_999,
      nowMs: 0,
    });
    expect(action.kind).toBe('engine');
    if (action.kind === 'engine') expect(action.command.id).toMatch(/^[A-Za-z0-9._:-]{1,64}$/);
  });

  it('marks /stop confirm and /halt_all confirm [reason] as already confirmed; plain ones are asked first', () => {
    expect(parse('/stop')).toMatchObject({ kind: 'engine', command: { type: 'session.stop' } });
    expect(parse('/stop')).not.toHaveProperty('confirmed');
    expect(parse('/stop confirm')).toMatchObject({ kind: 'engine', confirmed: true, command: { type: 'session.stop' } });
    expect(parse('/stop CONFIRM')).toMatchObject({ confirmed: true });
    expect(errorOf('/stop now')).toMatch(/takes no arguments/);
    expect(parse('/halt_all maintenance', admin)).not.toHaveProperty('confirmed');
    expect(parse('/halt_all maintenance', admin)).toMatchObject({ command: { type: 'admin.halt_all', reason: 'maintenance' } });
    expect(parse('/halt_all confirm exchange down', admin)).toMatchObject({
      kind: 'engine',
      confirmed: true,
      command: { type: 'admin.halt_all', reason: 'exchange down' },
    });
    const bare = parse('/halt_all confirm', admin);
    expect(bare).toMatchObject({ kind: 'engine', confirmed: true });
    if (bare.kind === 'engine') expect(bare.command).not.toHaveProperty('reason');
  });
});
