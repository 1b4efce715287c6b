import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateMasterKey, masterKeyFrom } from '../../src/secrets/key-box.js';
import type { KeyStore } from '../../src/secrets/key-store.js';
import { memoryKeyStore, redisKeyStore, sqliteKeyStore } from '../../src/secrets/key-store.js';
import { createKeyVault, masterKeysFromEnv } from '../../src/secrets/key-vault.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../support/redis.js';

// The vault over every store adapter: keys go in sealed, come out only with the right master key and user,
// rotate to a new master key, and the store never holds them in clear.

const dir = mkdtempSync(join(tmpdir(), 'qe-keys-'));
const prefix = uniquePrefix('keys');
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await deletePrefix(prefix);
});

const stores: [string, () => Promise<KeyStore>][] = [
  ['memory', async () => memoryKeyStore()],
  ['sqlite', async () => sqliteKeyStore(join(dir, 'keys.db'))],
  ['redis', () => redisKeyStore(redisUrl, prefix)],
];

describe.each(stores)('key vault on the %s store', (_name, openStore) => {
  const apiKey = 'AKIAEXAMPLEAPIKEY0001';
  const apiSecret = 'S3cr3t-EXAMPLE-binance-secret-value';

  it('stores sealed credentials, opens them for their user only, rotates and disconnects', async () => {
    const store = await openStore();
    try {
      const oldKey = masterKeyFrom(generateMasterKey());
      const vault = createKeyVault(store, { current: oldKey, all: [oldKey] });
      await vault.connect('alice', apiKey, apiSecret);
      await vault.connect('bob', 'bob-key', 'bob-secret');
      const raw = JSON.stringify(await store.all());
      expect(raw).not.toContain(apiKey);
      expect(raw).not.toContain(apiSecret);
      expect(await vault.credentials('alice')).toEqual({ apiKey, apiSecret });
      expect(await vault.credentials('nobody')).toBeNull();
      expect(await vault.has('alice')).toBe(true);
      expect(await vault.has('nobody')).toBe(false);

      // A blob moved to another user does not open.
      await store.put('mallory', (await store.get('alice')) ?? '');
      await expect(vault.credentials('mallory')).rejects.toThrow();
      await store.delete('mallory');

      // Rotation: the new key seals everything; the old key alone can no longer open it.
      const newKey = masterKeyFrom(generateMasterKey());
      expect(await createKeyVault(store, { current: newKey, all: [newKey, oldKey] }).rotate()).toBe(2);
      await expect(createKeyVault(store, { current: oldKey, all: [oldKey] }).credentials('alice')).rejects.toThrow(/not loaded/);
      const rotated = createKeyVault(store, { current: newKey, all: [newKey] });
      expect((await rotated.allCredentials()).get('bob')).toEqual({ apiKey: 'bob-key', apiSecret: 'bob-secret' });

      expect(await rotated.disconnect('alice')).toBe(true);
      expect(await rotated.disconnect('alice')).toBe(false);
      expect(await rotated.credentials('alice')).toBeNull();
    } finally {
      await store.close();
    }
  });
});

describe('vault without a master key', () => {
  it('refuses to store keys, saying why', async () => {
    const vault = createKeyVault(memoryKeyStore(), masterKeysFromEnv({}, null));
    expect(vault.enabled).toBe(false);
    await expect(vault.connect('alice', 'k', 's')).rejects.toThrow(/no master key configured/);
  });

  it('loads previous keys for rotation from the environment', () => {
    const current = masterKeyFrom(generateMasterKey());
    const previous = generateMasterKey();
    const keys = masterKeysFromEnv({ QE_MASTER_KEYS_PREVIOUS: ` ${previous} ` }, current);
    expect(keys?.all.map((k) => k.id)).toEqual([current.id, masterKeyFrom(previous).id]);
  });
});
