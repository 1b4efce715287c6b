import { defaultCoreConfig } from '../src/core/config.js';
import type { Input } from '../src/core/decide.js';
import { noFaults } from '../src/deterministic-sim/faults.js';
import { SimExchange } from '../src/deterministic-sim/sim-exchange.js';
import { paperCredentials } from '../src/engine/accounts.js';
import { boot } from '../src/engine/boot.js';
import { ManualClock } from '../src/engine/clock.js';
import { openMemoryLog } from '../src/log/memory-log.js';
import { openRedisLog } from '../src/log/redis-log.js';
import { createPrng } from '../src/paper-exchange/price-process.js';
import { silentLogger } from '../src/util/logger.js';
import { deletePrefix, knob, prefix, redisUrl } from './common.js';

// `npx tsx bench/command-cost.ts`: the engine kernel's own cost per command, without the service around it. Boots
// the engine on the in-memory log (or Redis with BENCH_REDIS=1), starts BENCH_USERS (50) paper sessions, then decides
// BENCH_COMMANDS (20 000) session.set_stoploss commands, BENCH_REPEATS (3) times over, read and submitted 100 at a
// time as the execution service does. Prints one line per repeat: wall time and CPU time per command. The repeats
// show whether the cost grows with history (remembered ids, snapshots): it should not.

const users = knob('BENCH_USERS', 50);
const count = knob('BENCH_COMMANDS', 20_000);
const repeats = knob('BENCH_REPEATS', 3);
/** Commands read and decided together, as the execution service's command loop reads them. */
const readBatchEntries = 100;
const onRedis = process.env.BENCH_REDIS === '1';

const clock = new ManualClock(1_700_000_000_000);
const exchange = new SimExchange(createPrng(1), () => clock.nowMs(), { ...noFaults });
const keyPrefix = prefix('command-cost');
const log = onRedis ? await openRedisLog({ url: redisUrl, prefix: keyPrefix }) : openMemoryLog({ nowMs: () => clock.nowMs() });
await log.init();
const { engine } = await boot({
  log,
  config: defaultCoreConfig,
  clock,
  logger: silentLogger(),
  loadFilters: async () => ({ paper: exchange.filters() }),
  accountOf: (userId) => exchange.account(paperCredentials(userId).apiKey),
  onEffects: () => undefined,
  onFatal: (error) => {
    throw error;
  },
  retry: { attempts: 1, readDelayMs: 0, sleep: async () => undefined },
});

/** Appends the commands (in pipelined chunks), then reads and decides them until none is left. */
async function decideAll(commands: string[]): Promise<void> {
  for (let i = 0; i < commands.length; i += 1_000) await Promise.all(commands.slice(i, i + 1_000).map((c) => log.appendCommand(c)));
  for (;;) {
    const deliveries = await log.readCommands('cost', readBatchEntries, onRedis ? 1 : 0);
    if (deliveries.length === 0) return;
    await engine.submitBatch(deliveries.map((delivery): Input => ({ kind: 'command', delivery })));
  }
}

try {
  await decideAll(
    Array.from({ length: users }, (_, u) => JSON.stringify({ id: `start:${u}`, userId: `u${u}`, type: 'session.start', mode: 'paper', capitalUsd: 10_000 })),
  );
  for (let repeat = 0; repeat < repeats; repeat += 1) {
    const commands = Array.from({ length: count }, (_, i) =>
      JSON.stringify({ id: `sl:${repeat}:${i}`, userId: `u${i % users}`, type: 'session.set_stoploss', pct: 1 + (i % 50) }),
    );
    // Appending is the harness's work, not the engine's: done before the clocks start.
    for (let i = 0; i < commands.length; i += 1_000) await Promise.all(commands.slice(i, i + 1_000).map((c) => log.appendCommand(c)));
    const startedAt = performance.now();
    const cpuAtStart = process.cpuUsage();
    await decideAll([]);
    const wallMs = performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuAtStart);
    process.stdout.write(
      `${JSON.stringify({
        repeat,
        commands: count,
        log: onRedis ? 'redis' : 'memory',
        commandsPerSecond: Math.round(count / (wallMs / 1_000)),
        wallUsPerCommand: Math.round((wallMs * 1_000) / count),
        cpuUsPerCommand: Math.round((cpu.user + cpu.system) / count),
      })}\n`,
    );
  }
} finally {
  await log.close();
  if (onRedis) await deletePrefix(keyPrefix);
}
