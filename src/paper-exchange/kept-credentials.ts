// The key pair a standalone `simulator --state PATH` generates at its first start, kept in that state file, so a
// restarted simulator prints and accepts the same pair: a client configured once keeps trading on the paper
// account it already has. One meta row (the state file holds paper money only; the pair guards nothing else).
import type { PaperStateStore } from './state-store.js';
import { emptyChanges } from './state-store.js';

/** Meta row name: no other meta row (snapshot-of.ts metaNames) uses it. */
export const keptCredentialsMetaName = 'cli-credentials';

export interface KeyPair {
  apiKey: string;
  apiSecret: string;
}

/** The pair kept in `store`, if any. */
export function keptCredentials(store: PaperStateStore): KeyPair | undefined {
  const text = store.load()?.meta.get(keptCredentialsMetaName);
  if (text === undefined) return undefined;
  const pair = JSON.parse(text) as Partial<KeyPair>;
  if (typeof pair.apiKey !== 'string' || typeof pair.apiSecret !== 'string') throw new Error(`unreadable ${keptCredentialsMetaName} row in the state file`);
  return { apiKey: pair.apiKey, apiSecret: pair.apiSecret };
}

/** Keeps `pair` in `store` (one durable transaction). */
export function keepCredentials(store: PaperStateStore, pair: KeyPair): void {
  const changes = emptyChanges();
  changes.meta.set(keptCredentialsMetaName, JSON.stringify({ apiKey: pair.apiKey, apiSecret: pair.apiSecret }));
  store.commit(changes);
}
