import type { AccountCredentials } from '../../exchange/port.js';
import type { KeyVault } from '../../secrets/key-vault.js';
import type { Logger } from '../../util/logger.js';

// Live accounts need each user's exchange keys, which operators store through /connect (sealed in the key
// store). The account registry asks synchronously, so the keys are held opened in memory and re-read every
// refresh period: a user who connects gets a live account on their next order after that.

/** How often stored keys are re-read. */
export const credentialRefreshMs = 5_000;

export interface CredentialCache {
  get(userId: string): AccountCredentials | null;
  stop(): void;
}

export async function startCredentialCache(vault: KeyVault, logger: Logger, refreshMs = credentialRefreshMs): Promise<CredentialCache> {
  let cached = new Map<string, AccountCredentials>();
  const refresh = async (): Promise<void> => {
    try {
      cached = await vault.allCredentials();
    } catch (error) {
      // Never log the error object: a parse failure could quote what it failed on.
      logger.error(
        { reason: error instanceof Error ? error.name : 'unknown' },
        'stored exchange keys could not be opened; live accounts keep the previous keys',
      );
    }
  };
  if (vault.enabled) await refresh();
  const timer = vault.enabled ? setInterval(() => void refresh(), refreshMs) : null;
  timer?.unref();
  return {
    get: (userId) => cached.get(userId) ?? null,
    stop: () => {
      if (timer) clearInterval(timer);
    },
  };
}
