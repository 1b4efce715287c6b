import type { EngineCommand } from './parse-command.js';

// The confirmation step for the commands that cannot be taken back (/stop flattens a session, /halt_all every
// session): the bot keeps the built command under a short-lived random token and answers with Confirm / Cancel
// buttons whose callback data carries that token. Only the user who asked, pressing Confirm within the bound,
// gets the command sent. The bookkeeping is pure (time and the token are arguments); the bot holds the map.

/** How long a Confirm button stays good after the question was asked. */
export const confirmationTtlMs = 60_000;
/** Questions awaiting an answer, over all users; beyond this the oldest is forgotten (its button goes stale). */
export const maxPendingConfirmations = 1_000;
/** Callback data prefixes (Telegram allows 1–64 bytes of callback data; a token is 16 hex characters). */
export const confirmPrefix = 'cf:';
export const cancelPrefix = 'cx:';

/** The command types that need a confirmation before they are sent. */
export const confirmedCommandTypes: ReadonlySet<EngineCommand['type']> = new Set(['session.stop', 'admin.halt_all']);

export interface PendingConfirmation {
  telegramUserId: number;
  command: EngineCommand;
  expiresAtMs: number;
}

export type ConfirmAnswer =
  | { kind: 'confirmed'; command: EngineCommand }
  | { kind: 'cancelled'; command: EngineCommand }
  | { kind: 'stale' }
  | { kind: 'foreign' }
  | { kind: 'not_ours' };

/** Callback data → which button and which token, or null when it is not a confirmation button. */
export function parseConfirmData(data: string): { confirm: boolean; token: string } | null {
  const match = /^(cf|cx):([0-9a-f]{16})$/.exec(data);
  if (!match?.[1] || !match[2]) return null;
  return { confirm: match[1] === 'cf', token: match[2] };
}

export interface ConfirmationBook {
  /** Keeps `command` under `token` for this user until nowMs + confirmationTtlMs. */
  ask(token: string, telegramUserId: number, command: EngineCommand, nowMs: number): void;
  /** A button press: the token is used up whatever the answer (a second press is stale), except by a stranger. */
  answer(data: string, telegramUserId: number, nowMs: number): ConfirmAnswer;
  size(): number;
}

export function createConfirmationBook(ttlMs = confirmationTtlMs, max = maxPendingConfirmations): ConfirmationBook {
  const pending = new Map<string, PendingConfirmation>();
  return {
    ask(token, telegramUserId, command, nowMs) {
      pending.set(token, { telegramUserId, command, expiresAtMs: nowMs + ttlMs });
      while (pending.size > max) {
        const oldest = pending.keys().next();
        if (oldest.done) break;
        pending.delete(oldest.value);
      }
    },
    answer(data, telegramUserId, nowMs) {
      const parsed = parseConfirmData(data);
      if (parsed === null) return { kind: 'not_ours' };
      const entry = pending.get(parsed.token);
      if (entry === undefined) return { kind: 'stale' };
      // A token is bound to the user who asked: anyone else's press leaves it in place for its owner.
      if (entry.telegramUserId !== telegramUserId) return { kind: 'foreign' };
      pending.delete(parsed.token);
      if (nowMs > entry.expiresAtMs) return { kind: 'stale' };
      return parsed.confirm ? { kind: 'confirmed', command: entry.command } : { kind: 'cancelled', command: entry.command };
    },
    size: () => pending.size,
  };
}
