import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SessionSummary } from '../../contract/session-summary.js';
import { keyboardButtonTexts } from './messages.js';

// The keyboard for the common actions, under /start, /help and /status replies: Status, Profit, Daily, and the
// session's own actions (Stop, and Pause or Resume as its state allows). A press is the same as typing the
// command: it goes through the same parser, rate limit and, for Stop, the same confirmation (confirm.ts).
//
// Callback data is bound to the user it was shown to, as confirm.ts binds its tokens, but without state (a
// keyboard stays under a reply for good, unlike a 60 s question): `kb:<action>:<tag>`, where the tag is an HMAC
// of the Telegram user id and the action under a key derived from the bot token. A press by anyone else, or
// with data made up, is refused. Within Telegram's 1–64 bytes of callback data.

export const keyboardPrefix = 'kb:';
/** Hex characters of the HMAC kept in the callback data (64 bits: guessing one is hopeless at any rate limit). */
const tagHexChars = 16;

export const keyboardActions = ['status', 'profit', 'daily', 'stop', 'pause', 'resume'] as const;
export type KeyboardAction = (typeof keyboardActions)[number];

/** What a press types, in the bot's own command words (parse-command.ts). */
export const keyboardCommandText: Record<KeyboardAction, string> = {
  status: '/status',
  profit: '/profit',
  daily: '/daily',
  stop: '/stop',
  pause: '/pause',
  resume: '/resume',
};

/** An inline keyboard of callback buttons only (a Bot API InlineKeyboardMarkup). */
export interface ActionMarkup {
  inline_keyboard: { text: string; callback_data: string }[][];
}

export type KeyboardPress = { kind: 'action'; action: KeyboardAction } | { kind: 'foreign' } | { kind: 'not_ours' };

export interface ActionKeyboard {
  /** The keyboard for this user; `session` known: its own actions as its state allows; undefined: not known (help). */
  markup(telegramUserId: number, session?: SessionSummary | null): ActionMarkup;
  /** A button press: which action, or refused (another user's button, or made-up data), or not a keyboard button. */
  read(data: string, telegramUserId: number): KeyboardPress;
}

/**
 * The session's own actions by its state, as the dashboard offers them (dashboard.js sessionState): none when
 * closed or stopping; only Stop under a kill switch (pausing changes nothing then); Stop and Resume when paused;
 * Stop and Pause when trading. Unknown (no status read): Stop, which the engine refuses without a session.
 */
export function sessionActions(session: SessionSummary | null | undefined): KeyboardAction[] {
  if (session === undefined) return ['stop'];
  if (session === null || session.status !== 'active') return [];
  if (session.killSwitch.engaged) return ['stop'];
  return session.paused ? ['resume', 'stop'] : ['pause', 'stop'];
}

export function createActionKeyboard(botToken: string): ActionKeyboard {
  // A key of its own, derived: the token itself never signs anything a user sees.
  const key = createHmac('sha256', botToken).update('qe-telegram-keyboard').digest();
  const tag = (telegramUserId: number, action: KeyboardAction): string =>
    createHmac('sha256', key).update(`${telegramUserId}:${action}`).digest('hex').slice(0, tagHexChars);
  const button = (telegramUserId: number, action: KeyboardAction) => ({
    text: keyboardButtonTexts[action],
    callback_data: `${keyboardPrefix}${action}:${tag(telegramUserId, action)}`,
  });
  return {
    markup(telegramUserId, session) {
      const rows: KeyboardAction[][] = [['status', 'profit', 'daily'], sessionActions(session)];
      return { inline_keyboard: rows.filter((r) => r.length > 0).map((r) => r.map((a) => button(telegramUserId, a))) };
    },
    read(data, telegramUserId) {
      const match = /^kb:([a-z]+):([0-9a-f]+)$/.exec(data);
      if (!match?.[1] || !match[2]) return { kind: 'not_ours' };
      const action = keyboardActions.find((a) => a === match[1]);
      if (action === undefined || match[2].length !== tagHexChars) return { kind: 'foreign' };
      const expected = Buffer.from(tag(telegramUserId, action));
      return timingSafeEqual(expected, Buffer.from(match[2])) ? { kind: 'action', action } : { kind: 'foreign' };
    },
  };
}
