// User-data listen keys: one active key per account, as Binance returns the existing key on re-POST.
//
// A key lives `validityMs` (60 min on Binance) after its creation or its last keep-alive; POST on an account with
// an active key returns that key and extends it; PUT on a key that does not exist (never made, deleted or expired)
// answers -1125 "This listenKey does not exist." and the client must POST a new one
// (https://developers.binance.com/docs/derivatives/usds-margined-futures/user-data-streams).
import { randomBytes } from 'node:crypto';

/** Binance: "A User Data Stream listenKey is valid for 60 minutes after creation" (page above). */
export const defaultListenKeyValidityMs = 60 * 60_000;

interface KeyEntry {
  accountKey: string;
  expiresAtMs: number;
}

/**
 * A key as the paper exchange's state store keeps it (issue 17): a client that reconnects with its key after the
 * exchange restarted keeps receiving its user data until the key expires, as the key's 60 min run on Binance.
 */
export interface StoredListenKey extends KeyEntry {
  listenKey: string;
}

export class ListenKeys {
  private readonly byKey = new Map<string, KeyEntry>();
  private readonly byAccount = new Map<string, string>();

  /** `onChange`: a key was made, extended or removed (the state store writes the keys before the answer). */
  constructor(
    private readonly validityMs: number = defaultListenKeyValidityMs,
    private readonly onChange: () => void = () => undefined,
  ) {}

  /** POST: returns the account's active key (extending it), creating one if there is none or it expired. */
  obtain(accountKey: string, nowMs: number): string {
    const existing = this.live(this.byAccount.get(accountKey), nowMs);
    this.onChange();
    if (existing) {
      existing.entry.expiresAtMs = nowMs + this.validityMs;
      return existing.listenKey;
    }
    const listenKey = randomBytes(32).toString('hex');
    this.byKey.set(listenKey, { accountKey, expiresAtMs: nowMs + this.validityMs });
    this.byAccount.set(accountKey, listenKey);
    return listenKey;
  }

  /** PUT: extends the account's key by another validity period; undefined (→ -1125) when it has none or it expired. */
  keepAlive(accountKey: string, nowMs: number): string | undefined {
    const found = this.live(this.byAccount.get(accountKey), nowMs);
    if (!found) return undefined;
    found.entry.expiresAtMs = nowMs + this.validityMs;
    this.onChange();
    return found.listenKey;
  }

  /** DELETE: invalidates the account's key; returns it so its sockets can be closed. */
  revoke(accountKey: string): string | undefined {
    const key = this.byAccount.get(accountKey);
    if (key === undefined) return undefined;
    this.byAccount.delete(accountKey);
    this.byKey.delete(key);
    this.onChange();
    return key;
  }

  /** The account a key belongs to while it is valid; an expired key belongs to no one (nothing is delivered on it). */
  accountOf(listenKey: string, nowMs: number = Date.now()): string | undefined {
    return this.live(listenKey, nowMs)?.entry.accountKey;
  }

  /** The account's key while it is valid (an account has at most one: obtain returns the valid one). */
  keyOf(accountKey: string, nowMs: number = Date.now()): string | undefined {
    return this.live(this.byAccount.get(accountKey), nowMs)?.listenKey;
  }

  /** Removes the keys whose validity ran out by `nowMs` and returns them (their sockets get `listenKeyExpired`). */
  sweepExpired(nowMs: number): string[] {
    const expired: string[] = [];
    for (const [listenKey, entry] of this.byKey) {
      if (entry.expiresAtMs > nowMs) continue;
      expired.push(listenKey);
      this.byKey.delete(listenKey);
      if (this.byAccount.get(entry.accountKey) === listenKey) this.byAccount.delete(entry.accountKey);
    }
    if (expired.length > 0) this.onChange();
    return expired;
  }

  /** Every key with its expiry, for the state store. */
  stored(): StoredListenKey[] {
    return [...this.byKey].map(([listenKey, entry]) => ({ listenKey, ...entry }));
  }

  /** The keys of a restarted exchange: each valid until its stored expiry; one that ran out meanwhile is gone. */
  restore(keys: readonly StoredListenKey[], nowMs: number): void {
    for (const { listenKey, accountKey, expiresAtMs } of keys) {
      if (expiresAtMs <= nowMs) continue;
      this.byKey.set(listenKey, { accountKey, expiresAtMs });
      this.byAccount.set(accountKey, listenKey);
    }
  }

  private live(listenKey: string | undefined, nowMs: number): { listenKey: string; entry: KeyEntry } | undefined {
    if (listenKey === undefined) return undefined;
    const entry = this.byKey.get(listenKey);
    return entry && entry.expiresAtMs > nowMs ? { listenKey, entry } : undefined;
  }
}
