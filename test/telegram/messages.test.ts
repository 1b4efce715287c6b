import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  acceptedHtml,
  alertHtml,
  doneHtml,
  argumentTexts,
  badCommandText,
  botCommandSpecs,
  engineUnreachableText,
  foreignKeyboardToast,
  helpText,
  historyUnreadableText,
  keyboardButtonTexts,
  keyTexts,
  maxHtmlMessageChars,
  menuCommands,
  notACommandText,
  notAllowedText,
  notConnectedText,
  notifyRefusal,
  privateChatOnlyText,
  slowDownText,
  unknownCommandText,
} from '../../src/services/telegram/messages.js';

// The catalogue's help, refusal and key-storage texts (issue 15 item 7): each in the user's words (the commands
// they type, never the engine's `session.start`), complete (no `undefined`), within one Telegram message; and
// bot.ts and parse-command.ts word nothing themselves.

const usage = '/session paper|live <capitalUsd> [stoplossPct] [horizonHours]';
/** Every text of this part of the catalogue, with sample arguments. */
const texts: Record<string, string> = {
  helpUser: helpText(false),
  helpAdmin: helpText(true),
  notAllowedText,
  privateChatOnlyText,
  notACommandText,
  slowDown: slowDownText(1_200),
  bad: badCommandText(argumentTexts.tooMany(usage)),
  unknown: unknownCommandText('frobnicate', false),
  notConnectedText,
  historyUnreadableText,
  engineUnreachableText,
  foreignKeyboardToast,
  ...Object.fromEntries(Object.entries(keyTexts).map(([k, v]) => [`key.${k}`, v])),
  ...Object.fromEntries(Object.entries(keyboardButtonTexts).map(([k, v]) => [`button.${k}`, v])),
  adminOnly: argumentTexts.adminOnly('halt_all'),
  noArguments: argumentTexts.noArguments('stop', '/stop [confirm]'),
  tooMany: argumentTexts.tooMany(usage),
  missing: argumentTexts.missing('Capital', usage),
  notPositive: argumentTexts.notPositive('Capital', '-5', usage),
  notANumber: argumentTexts.notANumber('Capital', 'lots', usage),
  outOfRange: argumentTexts.outOfRange('Stop-loss %', 'must be above 0 and below 100', usage),
  wholeNumber: argumentTexts.wholeNumber('days', 90, '0', '/daily [days]'),
  mode: argumentTexts.mode(usage),
  oneSymbol: argumentTexts.oneSymbol('/exit <SYMBOL>'),
  symbolShape: argumentTexts.symbolShape('/exit <SYMBOL>'),
  twoKeys: argumentTexts.twoKeys('/connect <apiKey> <apiSecret>'),
  keyLength: argumentTexts.keyLength(256),
  reasonLength: argumentTexts.reasonLength(200),
  oneUser: argumentTexts.oneUser('/approve_live <user>'),
  userShape: argumentTexts.userShape(),
  notifyShape: notifyRefusal({ problem: 'shape', got: '' }, '/notify …'),
  notifyMode: notifyRefusal({ problem: 'mode', got: 'loud' }, '/notify …'),
  notifyType: notifyRefusal({ problem: 'type', got: 'nonsense' }, '/notify …'),
};

describe('message catalogue: help, refusals, keys', () => {
  it('every text is in the user’s words, complete, and fits one message', () => {
    for (const [name, text] of Object.entries(texts)) {
      expect(text.length, name).toBeGreaterThan(0);
      expect(text.length, name).toBeLessThanOrEqual(maxHtmlMessageChars);
      expect(text, name).not.toMatch(/\b(session|admin|signals)\.[a-z_]+\b/); // engine command names
      expect(text, name).not.toMatch(/undefined|NaN|\[object /);
    }
  });

  it('help lists every command a user may send, admin ones to admins only, and mentions the buttons', () => {
    for (const spec of botCommandSpecs.filter((s) => s.command !== 'start')) {
      expect(texts.helpAdmin).toContain(`${spec.usage} — ${spec.description}`);
      if (spec.admin) expect(texts.helpUser).not.toContain(spec.usage);
      else expect(texts.helpUser).toContain(spec.usage);
    }
    expect(texts.helpUser).toMatch(/buttons below do the same as typing/);
    expect(menuCommands().map((c) => c.command)).not.toContain('halt_all');
    expect(menuCommands(true).map((c) => c.command)).toContain('halt_all');
    expect(menuCommands(true).map((c) => c.command)).not.toContain('start');
  });

  it('an unknown command names the nearest one it may be a typo of, and never an admin command to a user', () => {
    expect(unknownCommandText('stauts', false)).toBe('Unknown command /stauts. Did you mean /status? Send /help for the list.');
    expect(unknownCommandText('sesion', false)).toMatch(/Did you mean \/session\?/);
    expect(unknownCommandText('frobnicate', false)).toBe('Unknown command /frobnicate. Send /help for the list.');
    expect(unknownCommandText('users2', false)).not.toMatch(/Did you mean/);
    expect(unknownCommandText('users2', true)).toMatch(/Did you mean \/users\?/);
    expect(unknownCommandText('', false)).toBe('Unknown command /?. Send /help for the list.');
    expect(unknownCommandText('x'.repeat(100), false)).toContain(`/${'x'.repeat(32)}.`);
  });

  it('refusals say what is wrong, quote at most 20 characters of the input, and end with the usage', () => {
    expect(texts.notPositive).toBe(`Capital must be a positive number, got "-5". Usage: ${usage}`);
    expect(argumentTexts.notANumber('Capital', 'y'.repeat(50), usage)).toContain(`got "${'y'.repeat(20)}"`);
    for (const name of [
      'noArguments',
      'tooMany',
      'missing',
      'notPositive',
      'notANumber',
      'outOfRange',
      'wholeNumber',
      'mode',
      'oneSymbol',
      'symbolShape',
      'twoKeys',
      'oneUser',
    ])
      expect(texts[name], name).toMatch(/ Usage: \/\S+/);
    expect(texts.notifyMode).toBe('Mode must be one of on, silent, off, digest, got "loud". Usage: /notify …');
    expect(texts.notifyType).toMatch(/^Unknown type "nonsense": one of all, horizon, stale_feed, fill,/);
    expect(texts.notifyShape).toBe('Name a type and a mode. Usage: /notify …');
    expect(texts.bad).toBe(`⚠️ Too many arguments. Usage: ${usage}`);
  });

  it('rate limit, not connected and key storage replies say what happened and what to do next', () => {
    expect(slowDownText(1_200)).toBe('Slow down: too many commands. Try again in 2 s. Nothing was sent to the engine.');
    expect(slowDownText(10)).toMatch(/in 1 s\./);
    expect(notConnectedText).toMatch(/\/connect <apiKey> <apiSecret> first .*Nothing was sent\.$/);
    expect(keyTexts.stored).toMatch(/^🔐 Keys stored, encrypted\. Your message was deleted\. .*\/session live/);
    for (const k of ['deleteFailed', 'storageOff', 'storeFailed', 'stored'] as const) expect(keyTexts[k]).toMatch(/message/);
    expect(keyTexts.deleted).toMatch(/\/connect/);
  });

  it('format.ts words no engine answer itself: it only picks the catalogue text for each event', () => {
    const source = readFileSync(new URL('../../src/services/telegram/format.ts', import.meta.url), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    // A worded text is a string with a space in it; format.ts has none left (imports and event names have none).
    expect(source.match(/(['"`])[^'"`\n]* [^'"`\n]*\1/g)).toBeNull();
  });

  it('answers in user words: a signals route done is "signals", not signals.route', () => {
    const route = doneHtml(
      { type: 'reply', commandId: 'r1', userId: 'signals', commandType: 'signals.route', status: 'done', reason: null, result: null, atMs: 1 } as never,
      null,
    );
    expect(route).not.toMatch(/signals\.route/);
    expect(acceptedHtml('session.stop')).toMatch(/^⏳ Stopping/);
    expect(alertHtml('stop_loss', 'a < b')).toBe('🛑 Alert (stop_loss): a &lt; b');
  });

  it('bot.ts and parse-command.ts word no reply themselves: every text comes from the catalogue', () => {
    for (const file of ['bot.ts', 'parse-command.ts']) {
      const source = readFileSync(new URL(`../../src/services/telegram/${file}`, import.meta.url), 'utf8');
      expect(source, file).not.toMatch(/ctx\.reply\(\s*['"`]/);
      expect(source, file).not.toMatch(/answerCallbackQuery\(\{\s*text:\s*['"`]/);
      expect(source, file).not.toMatch(/message:\s*['"`]/);
    }
  });
});
