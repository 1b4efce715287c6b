// User-data listen keys: one active key per account, as Binance returns the existing key on re-POST.
import { randomBytes } from 'node:crypto';

export class ListenKeys {
  private readonly byKey = new Map<string, string>();
  private readonly byAccount = new Map<string, string>();

  /** POST: returns the account's active key, creating one if needed. */
  obtain(accountKey: string): string {
    const existing = this.byAccount.get(accountKey);
    if (existing) return existing;
    const listenKey = randomBytes(32).toString('hex');
    this.byKey.set(listenKey, accountKey);
    this.byAccount.set(accountKey, listenKey);
    return listenKey;
  }

  active(accountKey: string): string | undefined {
    return this.byAccount.get(accountKey);
  }

  /** DELETE: invalidates the account's key; returns it so its sockets can be closed. */
  revoke(accountKey: string): string | undefined {
    const key = this.byAccount.get(accountKey);
    if (key === undefined) return undefined;
    this.byAccount.delete(accountKey);
    this.byKey.delete(key);
    return key;
  }

  accountOf(listenKey: string): string | undefined {
    return this.byKey.get(listenKey);
  }
}
