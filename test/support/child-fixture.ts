import { afterAll, beforeAll } from 'vitest';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import { startSimulator } from '../../src/paper-exchange/server.js';
import type { ChildService } from './child.js';
import { spawnExecution } from './child.js';
import { deletePrefix, redisUrl, uniquePrefix } from './redis.js';

/**
 * For process-level tests: a simulator and a Redis log in the test process, and `start()` to run the
 * execution service as a child process against them (killed and cleaned up after the suite).
 */
export interface ChildFixture {
  sim: SimulatorHandle;
  log: EngineLog;
  service: ChildService | null;
  start(): Promise<ChildService>;
  /** The suite's key prefix (set before its first test). */
  prefix(): string;
}

export function useChildFixture(label: string, sim: { seed: number; priceStepMs: number }): ChildFixture {
  let prefix = '';
  const fixture: ChildFixture = {
    sim: undefined as unknown as SimulatorHandle,
    log: undefined as unknown as EngineLog,
    service: null,
    async start() {
      fixture.service = await spawnExecution({ redisUrl, prefix, restBaseUrl: fixture.sim.restBaseUrl, wsBaseUrl: fixture.sim.wsBaseUrl });
      return fixture.service;
    },
    prefix: () => prefix,
  };
  beforeAll(async () => {
    fixture.sim = await startSimulator({ port: 0, ...sim });
    prefix = uniquePrefix(label);
    fixture.log = await openRedisLog({ url: redisUrl, prefix });
    await fixture.log.init();
  });
  afterAll(async () => {
    await fixture.service?.kill();
    await fixture.log.close();
    await fixture.sim.close();
    await deletePrefix(prefix);
  });
  return fixture;
}
