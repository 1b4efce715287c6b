import type { Command } from '../../contract/commands.js';
import { everyPartitionTypes } from '../../log/command-router.js';

// A command that fans out to every partition (halt all, resume all, users) is answered by each partition's engine,
// each on its own outbound stream and so through its own relay. The admin gets one answer, once every partition has
// answered (issue 13, item 1): the relays share this gate. The first "accepted" goes out; the final answers are held
// until the last partition's arrives, which goes out as the answer, or a refusal if any partition refused. A relay
// asks again for an entry whose send failed: the partition chosen to speak is remembered, so its retry still speaks.

/** Fan-out commands remembered, at most; past it the oldest is forgotten (an answer still awaited is then lost). */
export const maxPendingFanOuts = 1_000;

interface Pending {
  /** The partition whose "accepted" goes out. */
  acceptedBy: number | null;
  answered: Set<number>;
  /** The first refusal's text, sent instead of the last answer. */
  refusal: string | null;
  /** Once every partition answered: the last one's, which sends the answer (again, if its send is retried). */
  final: { source: number; text: string } | null;
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
        p = { acceptedBy: null, answered: new Set(), refusal: null, final: null };
        pending.set(reply.commandId, p);
        const oldest = pending.size > maxPendingFanOuts ? pending.keys().next() : null;
        if (oldest && !oldest.done) pending.delete(oldest.value);
      }
      if (reply.status === 'accepted') {
        p.acceptedBy ??= source;
        return p.acceptedBy === source ? { send: true, text } : { send: false };
      }
      if (p.final) return p.final.source === source ? { send: true, text: p.final.text } : { send: false };
      p.answered.add(source);
      if (reply.status === 'rejected') p.refusal ??= text;
      if (p.answered.size < partitions) return { send: false };
      p.final = { source, text: p.refusal ?? text };
      return { send: true, text: p.final.text };
    },
  };
}
