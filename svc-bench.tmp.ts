import { defaultCoreConfig } from '../../../work/main/src/core/config.js';
import { createBinanceConnector } from '../../../work/main/src/exchange/binance/connector.js';
import { openRedisLog } from '../../../work/main/src/log/redis-log.js';
import { deleteKeysWithPrefix } from '../../../work/main/src/log/redis-keys.js';
import { startExecutionService } from '../../../work/main/src/services/execution/service.js';
import { startSimulator } from '../../../work/main/src/paper-exchange/server.js';
import { wasProcessed } from '../../../work/main/src/core/state.js';
import { silentLogger } from '../../../work/main/src/util/logger.js';
const redisUrl = 'redis://127.0.0.1:6379';
const sim = await startSimulator({ port: 0, seed: 9, priceStepMs: 100 });
const p = `prof:${Date.now().toString(36)}:`;
const log = await openRedisLog({ url: redisUrl, prefix: p });
const connector = createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 10_000 });
const marketData = connector.marketData();
const service = await startExecutionService({
  log,
  paper: connector,
  marketData,
  config: defaultCoreConfig,
  logger: silentLogger(),
  watchdogPeriodMs: 1_000,
  commandBlockMs: 50,
});
for (let u = 0; u < 50; u += 1)
  await log.appendCommand(JSON.stringify({ id: `start-${u}`, userId: `u${u}`, type: 'session.start', mode: 'paper', capitalUsd: 10_000 }));
await new Promise((r) => setTimeout(r, 1000));
const n = 5000;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: n }, (_, i) =>
    log.appendCommand(JSON.stringify({ id: `sl-${i}`, userId: `u${i % 50}`, type: 'session.set_stoploss', pct: 1 + (i % 50) })),
  ),
);
const tAppended = performance.now();
for (;;) {
  if (wasProcessed(service.engine.current.durable, 'sl-4999') && (await log.pendingCommandCount()) === 0) break;
  await new Promise((r) => setTimeout(r, 5));
}
const ms = performance.now() - t0;
console.log(JSON.stringify({ appendMs: Math.round(tAppended - t0), perSecond: Math.round(n / (ms / 1000)) }));
await service.stop();
await marketData.close();
await log.close();
await sim.close();
await deleteKeysWithPrefix(redisUrl, p);
