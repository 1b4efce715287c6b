import { defaultCoreConfig } from '../src/core/config.js';
import type { WalEvent } from '../src/core/events.js';
import { foldEvents } from '../src/core/events.js';
import { emptyDurableState } from '../src/core/state.js';
import { serializeSnapshot } from '../src/contract/snapshot.js';
import { defaultEngineLimits } from '../src/engine/engine.js';
import { openRedisLog } from '../src/log/redis-log.js';
import { deletePrefix, knob, prefix, redisUrl } from './common.js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startPaperExchangeProcess } from './exchange-process.js';
import { writeWal } from './wal-fixture.js';

// Restart time: a Redis log holding a WAL of BENCH_BOOT_EVENTS events (default 1 000 000) for
// BENCH_BOOT_SESSIONS sessions (default 1 000), with the snapshot the engine would have left behind (it writes
// one every snapshotEveryWalEvents), then the execution service started against the paper exchange until
// it is ready: snapshot + replay, boot reconciliation of every open session, feeds subscribed, first quotes.

/**
 * The fixture's snapshot is the fold of the session events and of this many events before the snapshot
 * point: what a fold of the whole WAL remembers (the processed-command ids are bounded), without folding a
 * million events just to build the fixture.
 */
const snapshotFoldTailEvents = defaultCoreConfig.maxRememberedCommandIds + 20_000;

export interface BootFigures {
  bootWalEvents: number;
  bootSessions: number;
  /** Writing the fixture WAL through the log's own commit (ms; not part of the boot). */
  bootFixtureWriteMs: number;
  /** startExecutionService called → ready (consuming commands), ms; null when not ready within BENCH_BOOT_CAP_MS. */
  bootReadyMs: number | null;
  /** The restarted process forked → ready (adds loading the code), ms. */
  bootProcessReadyMs: number | null;
  /** Events replayed after the snapshot during that boot. */
  bootReplayedEvents: number | null;
  /** The boot was given up after BENCH_BOOT_CAP_MS (and its process killed). */
  bootCapped: boolean;
}

/** Restarts the execution service in a process of its own: a cold start, killed if it outlasts capMs. */
async function restart(
  keyPrefix: string,
  exchange: { restBaseUrl: string; wsBaseUrl: string },
  capMs: number,
): Promise<{ readyMs: number; processReadyMs: number; replayedEvents: number } | null> {
  const forkedAt = performance.now();
  const child = fork(fileURLToPath(new URL('./boot-child.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, BENCH_BOOT_PREFIX: keyPrefix, BENCH_BOOT_REST_URL: exchange.restBaseUrl, BENCH_BOOT_WS_URL: exchange.wsBaseUrl },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ readyMs: number; replayedEvents: number } | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), capMs);
    child.once('message', (m: { readyMs: number; replayedEvents: number }) => {
      clearTimeout(timer);
      resolve(m);
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
  const processReadyMs = Math.round(performance.now() - forkedAt);
  if (ready) child.send('stop');
  else child.kill('SIGKILL');
  await exited;
  return ready ? { ...ready, processReadyMs } : null;
}

export async function measureBoot(): Promise<BootFigures> {
  const total = knob('BENCH_BOOT_EVENTS', 1_000_000);
  const sessions = Math.min(knob('BENCH_BOOT_SESSIONS', 1_000), Math.max(0, total - 1));
  // Where the engine's last snapshot would sit: fewer than snapshotEveryWalEvents events before the end.
  const snapshotAt = Math.max(sessions, total - Math.floor(defaultEngineLimits.snapshotEveryWalEvents / 2) - 1);
  const capMs = knob('BENCH_BOOT_CAP_MS', 120_000);
  const p = prefix('boot');
  const log = await openRedisLog({ url: redisUrl, prefix: p });
  const exchange = await startPaperExchangeProcess({ port: 0, seed: 11, priceStepMs: 100 });
  let logOpen = true;
  try {
    await log.init();
    const folded: WalEvent[] = [];
    let snapshotWalId: string | null = null;
    let index = 0;
    const t = performance.now();
    await writeWal(log, total, sessions, (events, ids) => {
      events.forEach((event, j) => {
        const at = index + j;
        if (at <= sessions || (at <= snapshotAt && at > snapshotAt - snapshotFoldTailEvents)) folded.push(event);
        if (at === snapshotAt) snapshotWalId = ids[j] ?? null;
      });
      index += events.length;
    });
    if (snapshotWalId !== null)
      await log.saveSnapshot({ walId: snapshotWalId, data: serializeSnapshot(foldEvents(emptyDurableState(), folded, defaultCoreConfig)) });
    const bootFixtureWriteMs = Math.round(performance.now() - t);

    // The restarted engine opens the log itself; this process lets go of it first.
    logOpen = false;
    await log.close();

    const booted = await restart(p, exchange, capMs);
    return {
      bootWalEvents: total,
      bootSessions: sessions,
      bootFixtureWriteMs,
      bootReadyMs: booted?.readyMs ?? null,
      bootProcessReadyMs: booted?.processReadyMs ?? null,
      bootReplayedEvents: booted?.replayedEvents ?? null,
      bootCapped: booted === null,
    };
  } finally {
    if (logOpen) await log.close().catch(() => undefined);
    await exchange.close();
    await deletePrefix(p);
  }
}
