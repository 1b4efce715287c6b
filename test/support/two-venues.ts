import type { OutboundEvent } from '../../src/contract/outbound.js';
import type { CoreConfig } from '../../src/core/config.js';
import { createBinanceConnector } from '../../src/exchange/binance/connector.js';
import type { AccountCredentials } from '../../src/exchange/port.js';
import type { EngineLog } from '../../src/log/port.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import type { SimulatorHandle } from '../../src/paper-exchange/server.js';
import type { ExecutionService } from '../../src/services/execution/service.js';
import { startExecutionService } from '../../src/services/execution/service.js';
import { silentLogger } from '../../src/util/logger.js';
import { allOutbound } from './outbound.js';
import { deletePrefix, redisUrl } from './redis.js';
import { waitFor } from './wait.js';

// The execution service on a Redis log with two venues, each its own simulator: paper, and one standing in for the
// live exchange. For the tests of what a live session reads from where (live-venue, live-rules-unreadable).

export type Reply = Extract<OutboundEvent, { type: 'reply' }>;

export interface TwoVenues {
  log: EngineLog;
  service: ExecutionService;
  /** Appends a command; its id. */
  send(command: Record<string, unknown>): Promise<string>;
  /** The reply to command `id` with `status`, once the engine gave it. */
  reply(id: string, status: string, timeoutMs?: number): Promise<Reply>;
  /** Stops the service and closes the feeds and the log (the simulators are the caller's), and deletes the keys. */
  close(): Promise<void>;
}

export async function startTwoVenues(opts: {
  paperSim: SimulatorHandle;
  liveSim: SimulatorHandle;
  prefix: string;
  config: CoreConfig;
  liveCredentials: (userId: string) => AccountCredentials | null;
}): Promise<TwoVenues> {
  const log = await openRedisLog({ url: redisUrl, prefix: opts.prefix });
  const connector = (sim: SimulatorHandle) => createBinanceConnector({ restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl, restTimeoutMs: 5_000 });
  const paper = connector(opts.paperSim);
  const live = connector(opts.liveSim);
  const paperData = paper.marketData();
  const liveData = live.marketData();
  const service = await startExecutionService({
    log,
    paper,
    live,
    liveCredentials: opts.liveCredentials,
    marketData: { paper: paperData, live: liveData },
    config: opts.config,
    logger: silentLogger(),
    watchdogPeriodMs: 200,
    commandBlockMs: 100,
    firstQuotesWaitMs: 300,
    onFatal: (error) => {
      throw error;
    },
  });
  return {
    log,
    service,
    async send(command) {
      await log.appendCommand(JSON.stringify(command));
      return String(command.id);
    },
    reply: (id, status, timeoutMs) =>
      waitFor(
        `${status} reply to ${id}`,
        async () => (await allOutbound(log)).find((e): e is Reply => e.type === 'reply' && e.commandId === id && e.status === status),
        timeoutMs,
      ),
    async close() {
      await service.stop();
      await paperData.close();
      await liveData.close();
      await log.close();
      await deletePrefix(opts.prefix);
    },
  };
}
