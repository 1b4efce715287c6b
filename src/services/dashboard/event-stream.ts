import type { Context } from 'hono';
import type { SSEMessage } from 'hono/streaming';
import { streamSSE } from 'hono/streaming';
import type { ChangesMessage, StateResponse } from './api-types.js';
import type { OutboundFollower } from './follower.js';
import type { ModelChange } from './read-model.js';
import { stateView } from './read-model.js';

// GET /api/events: the page's live feed as server-sent events. A client gets one `snapshot` (the whole state,
// as GET /api/state answers it) and then one `changes` message per batch the follower folds (new equity points,
// session changes, alerts, replies), so an open page costs the server what changed, never the whole equity
// series again. Each client has its own queue of messages not yet written; a client that lets it grow past
// `maxQueuedSseMessagesPerClient` (a slow or stalled reader) is dropped, never buffered without end; its
// EventSource reconnects and starts over from a fresh snapshot.

/** Messages queued for one client before it is dropped as too slow. */
export const maxQueuedSseMessagesPerClient = 256;
/** Event-stream connections open at once; beyond it a new one is refused with 503. */
export const maxSseClients = 32;
/** A comment line this often keeps idle connections (and proxies) open and finds dead peers, ms. */
export const sseHeartbeatMs = 15_000;
/** What the browser waits before reconnecting a dropped stream (the SSE `retry` field), ms. */
export const sseRetryMs = 2_000;

export interface EventStreamDeps {
  follower: OutboundFollower;
  nowMs(): number;
  /** Told when a client is dropped for falling behind (for the log). */
  onDropped(queued: number): void;
}

export interface EventStreamHub {
  /** The response for one GET /api/events. */
  handle(c: Context): Response;
  clients(): number;
}

function changesMessage(follower: OutboundFollower, changes: ModelChange[]): SSEMessage {
  const body: ChangesMessage = { changes, foldedEvents: follower.model().foldedEvents, follower: follower.status() };
  return { event: 'changes', data: JSON.stringify(body) };
}

export function createEventStreamHub(deps: EventStreamDeps): EventStreamHub {
  let open = 0;
  return {
    clients: () => open,
    handle(c) {
      if (open >= maxSseClients) return c.json({ error: `too many event streams open (at most ${maxSseClients})` }, 503);
      open += 1;
      return streamSSE(c, async (stream) => {
        // The snapshot and the subscription in one synchronous step: no fold can fall between them.
        const snapshot: StateResponse = { ...stateView(deps.follower.model()), follower: deps.follower.status(), nowMs: deps.nowMs() };
        const queue: SSEMessage[] = [{ event: 'snapshot', data: JSON.stringify(snapshot), retry: sseRetryMs }];
        let wake: (() => void) | null = null;
        let finished = false;
        const finish = (): void => {
          finished = true;
          wake?.();
        };
        const enqueue = (message: SSEMessage): void => {
          if (finished) return;
          if (queue.length >= maxQueuedSseMessagesPerClient) {
            deps.onDropped(queue.length);
            finish();
            queue.length = 0;
            stream.abort(); // unblocks a write waiting on a reader that stopped reading
            return;
          }
          queue.push(message);
          wake?.();
        };
        const unsubscribe = deps.follower.subscribe((changes) => enqueue(changesMessage(deps.follower, changes)));
        const heartbeat = setInterval(() => enqueue({ event: 'ping', data: String(deps.nowMs()) }), sseHeartbeatMs);
        stream.onAbort(finish);
        try {
          while (!finished) {
            const next = queue.shift();
            if (next === undefined) {
              await new Promise<void>((resolve) => (wake = resolve));
              wake = null;
              continue;
            }
            await stream.writeSSE(next);
          }
        } finally {
          unsubscribe();
          clearInterval(heartbeat);
          open -= 1;
        }
      });
    },
  };
}
