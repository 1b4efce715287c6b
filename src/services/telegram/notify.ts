import type { AlertKind } from '../../contract/outbound.js';
import { alertKinds } from '../../contract/outbound.js';

// Per-user notification settings (`/notify <type> on|silent|off|digest`) and the digest they can collect into.
// The decisions are pure; the settings rest in notify-store.ts, the digests in the relay's memory.

export const notifyModes = ['on', 'silent', 'off', 'digest'] as const;
export type NotifyMode = (typeof notifyModes)[number];
export type NotifyPrefs = Partial<Record<AlertKind, NotifyMode>>;

/**
 * Alerts about money at risk or trading stopped: always delivered, with sound, whatever the settings (a muted
 * stop-loss or liquidation notice is how a trader loses track of a session). `exchange_close` covers liquidations.
 */
export const riskAlertKinds: ReadonlySet<AlertKind> = new Set<AlertKind>(['stop_loss', 'kill_switch', 'exchange_close', 'account', 'halt']);
export const switchableAlertKinds: readonly AlertKind[] = alertKinds.filter((k) => !riskAlertKinds.has(k));

/** How an alert of this kind reaches this user. Default `on` (fills: grouped per order per minute, fill-groups.ts). */
export function modeFor(prefs: NotifyPrefs, kind: AlertKind): NotifyMode {
  if (riskAlertKinds.has(kind)) return 'on';
  return prefs[kind] ?? 'on';
}

/** What is wrong with `/notify` arguments (the words are the catalogue's: messages.ts notifyRefusal). */
export type NotifyProblem = 'shape' | 'mode' | 'type';

export type NotifyRequest =
  | { kind: 'show' }
  | { kind: 'set'; kinds: AlertKind[]; mode: NotifyMode }
  | { kind: 'error'; problem: NotifyProblem; got: string }
  | { kind: 'always_on'; alertKind: AlertKind };

/** `/notify` arguments: none (show), `<type|all> <mode>`. `fills` is accepted for `fill`. */
export function parseNotifyArgs(args: readonly string[]): NotifyRequest {
  if (args.length === 0) return { kind: 'show' };
  const [typeWord, modeWord, ...extra] = args.map((a) => a.toLowerCase());
  if (typeWord === undefined || modeWord === undefined || extra.length > 0) return { kind: 'error', problem: 'shape', got: '' };
  if (!(notifyModes as readonly string[]).includes(modeWord)) return { kind: 'error', problem: 'mode', got: modeWord };
  const mode = modeWord as NotifyMode;
  if (typeWord === 'all') return { kind: 'set', kinds: [...switchableAlertKinds], mode };
  const kind = typeWord === 'fills' ? 'fill' : typeWord;
  if (!(alertKinds as readonly string[]).includes(kind)) return { kind: 'error', problem: 'type', got: typeWord };
  if (riskAlertKinds.has(kind as AlertKind) && mode !== 'on') return { kind: 'always_on', alertKind: kind as AlertKind };
  return { kind: 'set', kinds: [kind as AlertKind], mode };
}

/** Pure: the settings after a `set`; `on` is the default, so it is not stored. */
export function applyNotify(prefs: NotifyPrefs, kinds: readonly AlertKind[], mode: NotifyMode): NotifyPrefs {
  const next: NotifyPrefs = { ...prefs };
  for (const k of kinds) {
    if (mode === 'on') delete next[k];
    else next[k] = mode;
  }
  return next;
}

/** Reads stored settings, keeping only known kinds and modes (a stored blob is never trusted blindly). */
export function parseStoredPrefs(json: string | null): NotifyPrefs {
  if (json === null) return {};
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return {};
  }
  if (typeof value !== 'object' || value === null) return {};
  const prefs: NotifyPrefs = {};
  for (const [k, v] of Object.entries(value)) {
    if ((switchableAlertKinds as readonly string[]).includes(k) && typeof v === 'string' && (notifyModes as readonly string[]).includes(v))
      prefs[k as AlertKind] = v as NotifyMode;
  }
  return prefs;
}

// --- the digest ---

/** A user's digest is sent this long after its first line (or at once on /digest). */
export const digestIntervalMs = 3_600_000;
/** Lines kept in one user's digest; later ones are counted, not kept. */
export const maxDigestLinesPerUser = 100;
/** Users with an open digest; one more sends the oldest early. */
export const maxUsersWithDigest = 10_000;

export interface Digest {
  openedAtMs: number;
  lines: string[];
  dropped: number;
}

export interface Digests {
  /** Adds an HTML line; returns a chat whose digest must go out now to stay within bounds, or null. */
  add(chatId: number, html: string, nowMs: number): number | null;
  /** Removes and returns a chat's digest (null when empty). */
  take(chatId: number): Digest | null;
  /** Puts back a digest that could not be sent (its age kept, so it is retried on the next round). */
  putBack(chatId: number, digest: Digest): void;
  /** Chats whose digest is due at nowMs, oldest first. */
  due(nowMs: number): number[];
}

export function createDigests(intervalMs = digestIntervalMs, maxLines = maxDigestLinesPerUser, maxUsers = maxUsersWithDigest): Digests {
  const open = new Map<number, Digest>();
  return {
    add(chatId, html, nowMs) {
      let digest = open.get(chatId);
      let early: number | null = null;
      if (digest === undefined) {
        digest = { openedAtMs: nowMs, lines: [], dropped: 0 };
        open.set(chatId, digest);
        if (open.size > maxUsers) early = open.keys().next().value ?? null;
      }
      if (digest.lines.length < maxLines) digest.lines.push(html);
      else digest.dropped += 1;
      return early;
    },
    putBack(chatId, digest) {
      const newer = open.get(chatId);
      const lines = [...digest.lines, ...(newer?.lines ?? [])];
      const restored = {
        openedAtMs: digest.openedAtMs,
        lines: lines.slice(0, maxLines),
        dropped: digest.dropped + (newer?.dropped ?? 0) + Math.max(0, lines.length - maxLines),
      };
      // Re-inserted first in line: it is the oldest.
      const rest = [...open].filter(([c]) => c !== chatId);
      open.clear();
      open.set(chatId, restored);
      for (const [c, d] of rest) open.set(c, d);
    },
    take(chatId) {
      const digest = open.get(chatId);
      open.delete(chatId);
      return digest ?? null;
    },
    due(nowMs) {
      const due: number[] = [];
      for (const [chatId, d] of open) {
        if (nowMs - d.openedAtMs < intervalMs) break;
        due.push(chatId);
      }
      return due;
    },
  };
}
