import type { EngineLog } from '../../log/port.js';
import type { KeyStore } from '../../secrets/key-store.js';
import { openKeyStore } from '../../secrets/key-store.js';
import { keyVaultFromEnv } from '../../secrets/key-vault.js';
import type { Logger } from '../../util/logger.js';
import { telegramConfigFromEnv } from '../telegram/config.js';
import { startTelegramBot } from '../telegram/run-telegram.js';

/** The Telegram bot inside `all` (only when TELEGRAM_BOT_TOKEN is set), on the same log and key store. */
export async function startTelegramInProcess(log: EngineLog, where: { redisUrl?: string | undefined; redisPrefix: string; sqlitePath: string }, logger: Logger): Promise<{ stop(): Promise<void> }> {
  const config = telegramConfigFromEnv(process.env);
  const keyStore: KeyStore = await openKeyStore(where);
  const bot = await startTelegramBot({
    log,
    token: config.token,
    apiRoot: config.apiRoot,
    access: config.access,
    vault: keyVaultFromEnv(keyStore),
    logger,
  });
  return {
    async stop() {
      await bot.stop();
      await keyStore.close();
    },
  };
}
