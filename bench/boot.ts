import { defaultCoreConfig } from '../src/core/config.js';
import type { WalEvent } from '../src/core/events.js';
import { foldEvents } from '../src/core/events.js';
import { emptyDurableState } from '../src/core/state.js';
import { serializeSnapshot } from '../src/contract/snapshot.js';
import { serializeWalEvent } from '../src/contract/wal.js';
import { defaultEngineLimits } from '../src/engine/engine.js';
import { openRedisLog } from '../src/log/redis-log.js';
import { deletePrefix, forkBenchChild, knob, prefix, redisUrl } from './common.js';
import { startPaperExchangeProcess } from './exchange-process.js';
import { openHarness } from './harness.js';
import { fixtureHeaderEvents, fixtureUserId, walEventAt, writeWal } from './wal-fixture.js';

// Restart time: a Redis log holding a WAL of BENCH_BOOT_EVENTS events (default 1 000 000) for
// BENCH_BOOT_SESSIONS sessions (default 1 000), BENCH_BOOT_BUSY_SESSIONS of them (default all) holding a position
// under an active protective stop, with the snapshot the engine would have left behind (snapshotPosition), then the execution service started against the paper exchange until it is ready,
// taking commands: snapshot + replay, the boot decision, feeds subscribed, first quotes. Sessions are reconciled
// in the background from then on (busy ones first; 11 weight each against the 2 400-a-minute budget), each one's
// commands waiting for it: bootFirstStopMs is what that wait costs a stop for the session reconciled last.

/**
 * The fixture's snapshot is the fold of the session events and of this many events before the snapshot
 * point: what a fold of the whole WAL remembers (the processed-command ids are bounded), without folding a
 * million events just to build the fixture.
 */
const snapshotFoldTailEvents = defaultCoreConfig.maxRememberedCommandIds + 20_000;

/** The fixture's snapshot at `at`: the fold of the header and of the snapshotFoldTailEvents events up to `at`. */
function fixtureSnapshot(at: number, header: number, sessions: number, busy: number): string {
  const events: WalEvent[] = [];
  for (let i = 0; i < header; i += 1) events.push(walEventAt(i, sessions, busy));
  for (let i = Math.max(header, at - snapshotFoldTailEvents + 1); i <= at; i += 1) events.push(walEventAt(i, sessions, busy));
  return serializeSnapshot(foldEvents(emptyDurableState(), events, defaultCoreConfig));
}

/**
 * Where the engine's last snapshot would sit: the engine writes one once snapshotEveryWalEvents events and as many
 * WAL bytes as the last snapshot holds (snapshotWalBytesPerSnapshotByte) have been written since, so a crash finds
 * on average half that behind the last one.
 */
function snapshotPosition(total: number, header: number, sessions: number, busy: number): number {
  const { snapshotEveryWalEvents, snapshotWalBytesPerSnapshotByte } = defaultEngineLimits;
  const firstGuess = Math.max(header - 1, total - Math.floor(snapshotEveryWalEvents / 2) - 1);
  const snapshotBytes = fixtureSnapshot(firstGuess, header, sessions, busy).length;
  const sampleEvents = Math.min(1_000, Math.max(1, total - header));
  let sampleBytes = 0;
  for (let i = total - sampleEvents; i < total; i += 1) sampleBytes += serializeWalEvent(walEventAt(i, sessions, busy)).length;
  const eventsPerSnapshot = Math.ceil((snapshotBytes * (snapshotWalBytesPerSnapshotByte ?? 0)) / (sampleBytes / sampleEvents));
  const behind = Math.floor(Math.max(snapshotEveryWalEvents, eventsPerSnapshot) / 2);
  return Math.max(header - 1, total - behind - 1);
}

export interface BootFigures {
  bootWalEvents: number;
  bootSessions: number;
  /** Of bootSessions, those holding a position under a protective stop (reconciled first). */
  bootBusySessions: number;
  /** Writing the fixture WAL through the log's own commit (ms; not part of the boot). */
  bootFixtureWriteMs: number;
  /** startExecutionService called → ready (consuming commands), ms; null when not ready within BENCH_BOOT_CAP_MS. */
  bootReadyMs: number | null;
  /** The restarted process forked → ready (adds loading the code), ms. */
  bootProcessReadyMs: number | null;
  /**
   * A session.stop for the session reconciled last, appended once ready → its final reply (ms): a command waits for
   * its own session only. Null when not answered within BENCH_BOOT_CAP_MS.
   */
  bootFirstStopMs: number | null;
  /** Events replayed after the snapshot during that boot. */
  bootReplayedEvents: number | null;
  /** The boot was given up after BENCH_BOOT_CAP_MS (and its process killed). */
  bootCapped: boolean;
}

/**
 * Restarts the execution service in a process of its own: a cold start, killed if it outlasts capMs. Once it
 * is ready, `whileReady` runs against it before it is stopped.
 */
async function restart(
  keyPrefix: string,
  exchange: { restBaseUrl: string; wsBaseUrl: string },
  capMs: number,
  whileReady: () => Promise<number | null>,
): Promise<{ readyMs: number; processReadyMs: number; replayedEvents: number; whileReady: number | null } | null> {
  const forkedAt = performance.now();
  const child = forkBenchChild('boot-child.ts', {
    ...process.env,
    BENCH_BOOT_PREFIX: keyPrefix,
    BENCH_BOOT_REST_URL: exchange.restBaseUrl,
    BENCH_BOOT_WS_URL: exchange.wsBaseUrl,
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
  const measured = ready ? await whileReady() : null;
  if (ready) child.send('stop');
  else child.kill('SIGKILL');
  await exited;
  return ready ? { ...ready, processReadyMs, whileReady: measured } : null;
}

/**
 * A session.stop for the session boot reconciles last, appended as soon as the engine is ready: ms until its final
 * reply (null if none within capMs). It waits for that session's reconciliation only (moved to the front).
 */
async function firstStop(keyPrefix: string, userId: string, capMs: number): Promise<number | null> {
  const harness = await openHarness(redisUrl, keyPrefix);
  try {
    const t = performance.now();
    await harness.append(JSON.stringify({ id: 'bootstop:1', userId, type: 'session.stop' }));
    const status = await harness.waitForReply('bootstop:1', capMs);
    return status === undefined ? null : Math.round(performance.now() - t);
  } finally {
    await harness.close();
  }
}

export async function measureBoot(): Promise<BootFigures> {
  const total = knob('BENCH_BOOT_EVENTS', 1_000_000);
  const sessions = Math.min(knob('BENCH_BOOT_SESSIONS', 1_000), Math.max(0, total - 1));
  const busy = Math.min(knob('BENCH_BOOT_BUSY_SESSIONS', sessions), sessions);
  const header = fixtureHeaderEvents(sessions, busy);
  const snapshotAt = snapshotPosition(total, header, sessions, busy);
  const capMs = knob('BENCH_BOOT_CAP_MS', 120_000);
  const p = prefix('boot');
  const log = await openRedisLog({ url: redisUrl, prefix: p });
  const exchange = await startPaperExchangeProcess({ port: 0, seed: 11, priceStepMs: 100 });
  let logOpen = true;
  try {
    await log.init();
    let snapshotWalId: string | null = null;
    let index = 0;
    const t = performance.now();
    await writeWal(
      log,
      total,
      sessions,
      (events, ids) => {
        events.forEach((_event, j) => {
          if (index + j === snapshotAt) snapshotWalId = ids[j] ?? null;
        });
        index += events.length;
      },
      busy,
    );
    if (snapshotWalId !== null) await log.saveSnapshot({ walId: snapshotWalId, data: fixtureSnapshot(snapshotAt, header, sessions, busy) });
    const bootFixtureWriteMs = Math.round(performance.now() - t);

    // The restarted engine opens the log itself; this process lets go of it first.
    logOpen = false;
    await log.close();

    const booted = await restart(p, exchange, capMs, () => firstStop(p, fixtureUserId(sessions - 1), capMs));
    return {
      bootWalEvents: total,
      bootSessions: sessions,
      bootBusySessions: busy,
      bootFixtureWriteMs,
      bootReadyMs: booted?.readyMs ?? null,
      bootProcessReadyMs: booted?.processReadyMs ?? null,
      bootReplayedEvents: booted?.replayedEvents ?? null,
      bootFirstStopMs: booted?.whileReady ?? null,
      bootCapped: booted === null,
    };
  } finally {
    if (logOpen) await log.close().catch(() => undefined);
    await exchange.close();
    await deletePrefix(p);
  }
}
