import { z } from 'zod';
import type { AccountCredentials } from '../exchange/port.js';
import type { MasterKey } from './key-box.js';
import { masterKeyFrom, masterKeyFromEnv, open, reseal, seal } from './key-box.js';
import type { KeyStore } from './key-store.js';

// Exchange credentials per user, sealed with AES-256-GCM (key-box.ts) before they reach the store. The user
// id is the sealing context, so a blob copied to another user does not open.

const credentialsSchema = z.object({ apiKey: z.string().min(1).max(256), apiSecret: z.string().min(1).max(256) });

export interface MasterKeys {
  /** New blobs are sealed with this one. */
  current: MasterKey;
  /** Every key blobs may still be sealed with (current included): rotation opens with these. */
  all: MasterKey[];
}

/** QE_MASTER_KEY (or QE_MASTER_KEY_FILE) is current; QE_MASTER_KEYS_PREVIOUS (comma list) still opens old blobs. */
export function masterKeysFromEnv(env: NodeJS.ProcessEnv, current: MasterKey | null): MasterKeys | null {
  if (!current) return null;
  const previous = (env.QE_MASTER_KEYS_PREVIOUS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(masterKeyFrom);
  return { current, all: [current, ...previous] };
}

export interface KeyVault {
  /** False when no master key is configured: keys cannot be stored. */
  readonly enabled: boolean;
  connect(userId: string, apiKey: string, apiSecret: string): Promise<void>;
  disconnect(userId: string): Promise<boolean>;
  /** True when keys are stored for the user (without opening them). */
  has(userId: string): Promise<boolean>;
  credentials(userId: string): Promise<AccountCredentials | null>;
  /** Every stored user's credentials (the execution service's cache of live accounts). */
  allCredentials(): Promise<Map<string, AccountCredentials>>;
  /** Re-seals every blob under the current key; returns how many were re-sealed. */
  rotate(): Promise<number>;
}

function requireKeys(keys: MasterKeys | null): MasterKeys {
  if (!keys) throw new Error('no master key configured (QE_MASTER_KEY or QE_MASTER_KEY_FILE): exchange keys cannot be stored or read');
  return keys;
}

export function createKeyVault(store: KeyStore, keys: MasterKeys | null): KeyVault {
  const unseal = (userId: string, blob: string): AccountCredentials => credentialsSchema.parse(JSON.parse(open(requireKeys(keys).all, blob, userId)));
  return {
    enabled: keys !== null,
    async connect(userId, apiKey, apiSecret) {
      const credentials = credentialsSchema.parse({ apiKey, apiSecret });
      await store.put(userId, seal(requireKeys(keys).current, JSON.stringify(credentials), userId));
    },
    disconnect: (userId) => store.delete(userId),
    has: async (userId) => (await store.get(userId)) !== null,
    async credentials(userId) {
      const blob = await store.get(userId);
      return blob === null ? null : unseal(userId, blob);
    },
    async allCredentials() {
      const out = new Map<string, AccountCredentials>();
      for (const [userId, blob] of Object.entries(await store.all())) out.set(userId, unseal(userId, blob));
      return out;
    },
    async rotate() {
      const k = requireKeys(keys);
      let count = 0;
      for (const [userId, blob] of Object.entries(await store.all())) {
        await store.put(userId, reseal(k.all, k.current, blob, userId));
        count += 1;
      }
      return count;
    },
  };
}

/** The vault every service opens: master keys from the environment (none = storing keys is refused). */
export function keyVaultFromEnv(store: KeyStore, env: NodeJS.ProcessEnv = process.env): KeyVault {
  return createKeyVault(store, masterKeysFromEnv(env, masterKeyFromEnv(env)));
}
