import { z } from 'zod';
import { parseEnvWith, telegramIdList, telegramUserId } from '../../config/env.js';

// The Telegram bot's configuration, parsed from the environment with zod so a typo fails at start-up.
// The token is a secret: it is kept out of every log line and error message.

/** Default per-user command budget (commands per minute). */
export const defaultRatePerMin = 20;

export const telegramEnvSchema = z.object({
  TELEGRAM_BOT_TOKEN: z.string().min(1, 'TELEGRAM_BOT_TOKEN is required for the telegram service'),
  QE_TELEGRAM_API_ROOT: z.string().url().default('https://api.telegram.org'),
  /** Telegram user ids allowed to use the bot (admins are implicitly allowed). */
  QE_TELEGRAM_USER_IDS: telegramIdList.default([]),
  /** Telegram user ids allowed the admin commands. */
  QE_TELEGRAM_ADMIN_IDS: telegramIdList.default([]),
  QE_TELEGRAM_RATE_PER_MIN: z.coerce.number().int().positive().max(10_000).default(defaultRatePerMin),
});

/** Who may talk to the bot. Ids are Telegram user ids as decimal strings. */
export interface TelegramAccess {
  userIds: readonly string[];
  adminIds: readonly string[];
  /** Commands per minute per user (token bucket of this size, refilled continuously). */
  ratePerMin: number;
}

export interface TelegramConfig {
  token: string;
  apiRoot: string;
  access: TelegramAccess;
}

export function telegramConfigFromEnv(env: NodeJS.ProcessEnv = process.env): TelegramConfig {
  // Issues name the variable and the rule, never the value (the token must not end up in a message).
  const e = parseEnvWith(telegramEnvSchema, env, 'telegram configuration');
  return {
    token: e.TELEGRAM_BOT_TOKEN,
    apiRoot: e.QE_TELEGRAM_API_ROOT.replace(/\/+$/, ''),
    access: { userIds: e.QE_TELEGRAM_USER_IDS, adminIds: e.QE_TELEGRAM_ADMIN_IDS, ratePerMin: e.QE_TELEGRAM_RATE_PER_MIN },
  };
}

/** The engine user a Telegram user acts as (the engine's admin list uses the same mapping). */
export const engineUserId = telegramUserId;

/** The private chat an engine user's events go to, or null when the user is not a Telegram user. */
export function chatIdForEngineUser(userId: string | null): number | null {
  if (userId === null) return null;
  const match = /^tg(\d{1,20})$/.exec(userId);
  if (!match?.[1]) return null;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : null;
}

export function isAdmin(access: TelegramAccess, telegramUserId: number): boolean {
  return access.adminIds.includes(String(telegramUserId));
}

export function isAllowed(access: TelegramAccess, telegramUserId: number): boolean {
  const id = String(telegramUserId);
  return access.userIds.includes(id) || access.adminIds.includes(id);
}
