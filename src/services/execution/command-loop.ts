import { setTimeout as sleep } from 'node:timers/promises';
import type { Input } from '../../core/decide.js';
import type { CommandDelivery } from '../../model/command-delivery.js';
import type { Logger } from '../../util/logger.js';

// The execution service's command loop: read a batch of commands, hand it to the engine, read the next one while
// that batch is decided and committed. A read and a commit are each a log round trip; done one after the other
// the engine sat idle for both on every batch (29 % of the bench's command run), and a batch's commit waited
// for nothing but its own. Batches handed off while one is committing share the engine's next step (one commit).
// Order is kept: each batch is handed to the engine (after its account preflight) only once the batch read
// before it was, so a user's commands are decided in the order they were appended.

/** Command batches handed to the engine and not yet committed before the loop stops reading. */
export const defaultMaxCommandBatchesInFlight = 4;
/** Wait after a batch could not be committed before reading again (ms): a failing log is not hammered. */
export const commitFailureBackoffMs = 200;
/** Wait after a failed read before reading again (ms). */
export const readFailureBackoffMs = 500;

export interface CommandLoopDeps {
  /** Waits while the gate holds too many commands (command-gate.ts). */
  roomToRead(): Promise<void>;
  /** Commands of dead consumers and new ones, in stream order; resolves with none after its block time. */
  read(): Promise<CommandDelivery[]>;
  /** The deliveries to decide now (the gate holds the others and hands them to `handOff` itself later). */
  route(deliveries: readonly CommandDelivery[], readAtMs: number): CommandDelivery[];
  /** The engine inputs for the deliveries: the account preflight of starts (may call the exchange). */
  prepare(deliveries: CommandDelivery[]): Promise<Input[]>;
  /** Queues inputs in the engine at once; the promise settles when they are committed. */
  submit(inputs: Input[]): Promise<void>;
  /** After a batch committed. */
  committed(deliveries: readonly CommandDelivery[], readAtMs: number): void;
  nowMs(): number;
  logger: Logger;
  maxBatchesInFlight?: number;
}

export interface CommandLoop {
  /** Hands deliveries to the engine after every batch handed off before; resolves when they are committed. */
  handOff(deliveries: CommandDelivery[], readAtMs: number): Promise<void>;
  /** Starts reading; `stop` ends the loop and waits for the batches in flight. */
  start(): void;
  stop(): Promise<void>;
}

export function createCommandLoop(deps: CommandLoopDeps): CommandLoop {
  const maxInFlight = deps.maxBatchesInFlight ?? defaultMaxCommandBatchesInFlight;
  if (!(maxInFlight >= 1)) throw new Error(`maxBatchesInFlight must be at least 1, got ${maxInFlight}`);
  /** Settles once the last batch handed off is queued in the engine (never rejects). */
  let queuedTail: Promise<void> = Promise.resolve();
  const inFlight = new Set<Promise<void>>();
  let commitFailed = false;
  let stopped = false;
  let loop: Promise<void> | null = null;

  const handOff = (deliveries: CommandDelivery[], readAtMs: number): Promise<void> => {
    let commit: Promise<void> = Promise.resolve();
    const queued = queuedTail.then(async () => {
      const inputs = await deps.prepare(deliveries);
      commit = deps.submit(inputs);
    });
    queuedTail = queued.then(
      () => undefined,
      () => undefined,
    );
    return queued.then(() => commit).then(() => deps.committed(deliveries, readAtMs));
  };

  const readOnce = async (): Promise<void> => {
    await deps.roomToRead();
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (commitFailed) {
      commitFailed = false;
      await sleep(commitFailureBackoffMs);
    }
    const deliveries = await deps.read();
    const readAtMs = deps.nowMs();
    const batch = handOff(deps.route(deliveries, readAtMs), readAtMs).catch((error: unknown) => {
      commitFailed = true;
      deps.logger.error({ err: error, commands: deliveries.length }, 'commands not committed; they stay pending and will be redelivered');
    });
    inFlight.add(batch);
    void batch.finally(() => inFlight.delete(batch));
  };

  return {
    handOff,
    start() {
      loop ??= (async () => {
        while (!stopped) {
          try {
            await readOnce();
          } catch (error) {
            if (stopped) break;
            deps.logger.error({ err: error }, 'command stream read failed; retrying');
            await sleep(readFailureBackoffMs);
          }
        }
        await Promise.all(inFlight);
      })();
    },
    async stop() {
      stopped = true;
      await loop;
      await Promise.all(inFlight);
    },
  };
}
