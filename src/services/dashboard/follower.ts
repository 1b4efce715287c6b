import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineLog } from '../../log/port.js';
import type { Logger } from '../../util/logger.js';
import type { FollowerStatus } from './api-types.js';
import type { ModelChange, ReadModel, ReplyView } from './read-model.js';
import { emptyReadModel, foldOutbound, parseReply } from './read-model.js';

// Follows the outbound stream from its beginning (a non-group tail: the dashboard acknowledges nothing and
// takes nothing away from other consumers) and folds every record into the read model. It is also where a
// command's reply is awaited: the waiter registers before the command is appended, so the reply cannot be
// missed, and one tail serves every waiting request (the Redis adapter has a single blocking connection,
// so concurrent blocking tails would only queue behind each other).

export interface FollowerLimits {
  /** Records read per tail call. */
  batchEntries: number;
  /** How long one tail call may block waiting for new records, ms. */
  blockMs: number;
  /** Pause after an empty read (adapters that do not block return at once), ms. */
  idleMs: number;
  /** Pause after a failed read before trying again, ms. */
  retryMs: number;
}

export type { FollowerStatus };

export const defaultFollowerLimits: FollowerLimits = { batchEntries: 1_000, blockMs: 250, idleMs: 20, retryMs: 1_000 };

export interface ReplyWaiter {
  /** The first reply to the command, or null when none came within timeoutMs. */
  first(timeoutMs: number): Promise<ReplyView | null>;
  cancel(): void;
}

/** Called after each folded batch that changed something, with what it changed (in fold order). */
export type ChangeListener = (changes: ModelChange[]) => void;

export interface OutboundFollower {
  model(): ReadModel;
  status(): FollowerStatus;
  /** Follows the model's changes from now on (synchronously after model(): nothing falls between); returns the unsubscribe. */
  subscribe(listener: ChangeListener): () => void;
  /**
   * Call before appending the command. `copies`: how many partitions the command went to (a fan-out on a cluster):
   * the waiter resolves once each has answered, with a refusal if any refused.
   */
  expectReply(commandId: string, copies?: number): ReplyWaiter;
  stop(): Promise<void>;
}

/**
 * `logs`: the one log, or every partition's log on a cluster (one tail each, folded into the one model: a user's events
 * all come from the user's partition, in order; a fan-out's replies come from each partition).
 */
export function startOutboundFollower(logs: readonly EngineLog[], logger: Logger, limits: FollowerLimits = defaultFollowerLimits): OutboundFollower {
  const model = emptyReadModel();
  if (logs.length === 0) throw new Error('the dashboard follows at least one log');
  /** Each log's tail: where it resumes, and whether it has caught up once. */
  const tails = logs.map((log) => ({ log, lastId: model.lastId, caughtUp: false }));
  const status: FollowerStatus = { caughtUp: false, lastError: null, lastErrorAtMs: null };
  /** Per awaited command: how many partitions must answer, the first answer of each so far, and the resolver. */
  const waiters = new Map<string, { copies: number; answers: Map<number, ReplyView>; resolve: (reply: ReplyView | null) => void }>();
  const listeners = new Set<ChangeListener>();
  let stopped = false;

  const publish = (changes: ModelChange[]): void => {
    for (const listener of listeners) {
      try {
        listener(changes);
      } catch (error) {
        // One broken reader must not stop the fold every other reader (and the command replies) depend on.
        logger.warn({ err: error }, 'dashboard: a change listener failed');
      }
    }
  };

  /** A record from the `source`-th followed log (a partition): the first reply of each partition counts. */
  const notify = (data: string, source: number): void => {
    if (waiters.size === 0) return;
    const reply = parseReply(data);
    const waiter = reply ? waiters.get(reply.commandId) : undefined;
    if (!reply || !waiter || waiter.answers.has(source)) return;
    waiter.answers.set(source, reply);
    if (waiter.answers.size < waiter.copies) return;
    waiters.delete(reply.commandId);
    const answers = [...waiter.answers.values()];
    waiter.resolve(answers.find((a) => a.status === 'rejected') ?? reply);
  };

  const follow = async (tail: (typeof tails)[number], source: number): Promise<void> => {
    while (!stopped) {
      try {
        const batch = await tail.log.tailOutbound(tail.lastId, limits.batchEntries, limits.blockMs);
        const changes: ModelChange[] | null = listeners.size > 0 ? [] : null;
        for (const record of batch) {
          foldOutbound(model, record.id, record.data, changes);
          tail.lastId = record.id;
          notify(record.data, source);
        }
        if (changes && changes.length > 0) publish(changes);
        if (batch.length < limits.batchEntries) {
          tail.caughtUp = true;
          status.caughtUp = tails.every((t) => t.caughtUp);
        }
        if (batch.length === 0 && !stopped) await sleep(limits.idleMs);
      } catch (error) {
        if (stopped) break;
        status.lastError = error instanceof Error ? error.message : String(error);
        status.lastErrorAtMs = Date.now();
        logger.warn({ err: error }, 'dashboard: outbound read failed; retrying');
        await sleep(limits.retryMs);
      }
    }
  };
  const loop = Promise.all(tails.map(follow));

  return {
    model: () => model,
    status: () => ({ ...status }),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    expectReply(commandId, copies = 1) {
      let resolveReply: (reply: ReplyView | null) => void = () => undefined;
      const replied = new Promise<ReplyView | null>((resolve) => (resolveReply = resolve));
      waiters.set(commandId, { copies, answers: new Map(), resolve: resolveReply });
      const cancel = (): void => {
        waiters.delete(commandId);
        resolveReply(null);
      };
      return {
        async first(timeoutMs) {
          const timer = setTimeout(cancel, timeoutMs);
          try {
            return await replied;
          } finally {
            clearTimeout(timer);
          }
        },
        cancel,
      };
    },
    async stop() {
      stopped = true;
      listeners.clear();
      for (const waiter of waiters.values()) waiter.resolve(null);
      waiters.clear();
      await loop;
    },
  };
}
