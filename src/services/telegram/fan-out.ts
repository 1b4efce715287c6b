import type { Command } from '../../contract/commands.js';
import { everyPartitionTypes } from '../../log/command-router.js';

// A command that fans out to every partition (halt all, resume all, users) is answered by each partition's engine,
// each on its own outbound stream and so through its own relay. The admin gets one answer, once every partition has
// answered (issue 13, item 1): the relays share this gate. The first "accepted" goes out; the final answers are held
// until the last partition's arrives, which goes out as the answer, or a refusal if any partition refused.

/** Fan-out commands awaiting their partitions' answers, at most; past it the oldest is forgotten (its answer is lost). */
export const maxPendingFanOuts = 1_000;

interface Pending {
  accepted: boolean;
  answered: Set<number>;
  /** The first refusal's text, sent instead of the last answer. */
  refusal: string | null;
}

export type FanOutVerdict = { send: true; text: string } | { send: false };

export interface FanOutGate {
  /** One partition's (`source`) reply to `commandType` `commandId`; `text` is what would be sent. */
  admit(reply: { commandId: string; commandType: string | null; status: string }, source: number, text: string): FanOutVerdict;
}

/** `partitions`: how many each fan-out goes to; with one, every reply passes as it is. */
export function createFanOutGate(partitions: number): FanOutGate {
  const pending = new Map<string, Pending>();
  return {
    admit(reply, source, text) {
      if (partitions <= 1 || reply.commandType === null || !everyPartitionTypes.has(reply.commandType as Command['type'])) return { send: true, text };
      let p = pending.get(reply.commandId);
      if (!p) {
        p = { accepted: false, answered: new Set(), refusal: null };
        pending.set(reply.commandId, p);
        const oldest = pending.size > maxPendingFanOuts ? pending.keys().next() : null;
        if (oldest && !oldest.done) pending.delete(oldest.value);
      }
      if (reply.status === 'accepted') {
        if (p.accepted) return { send: false };
        p.accepted = true;
        return { send: true, text };
      }
      if (p.answered.has(source)) return { send: false };
      p.answered.add(source);
      if (reply.status === 'rejected') p.refusal ??= text;
      if (p.answered.size < partitions) return { send: false };
      pending.delete(reply.commandId);
      return { send: true, text: p.refusal ?? text };
    },
  };
}
