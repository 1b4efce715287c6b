import type { SimulatorHandle, SimulatorOptions } from '../src/paper-exchange/server.js';
import { startSimulator } from '../src/paper-exchange/server.js';
import type { ExchangeReply, ExchangeRequest } from './exchange-process.js';

// The paper exchange in a process of its own (forked by exchange-process.ts), so its matching, HTTP and
// WebSocket work is not charged to the engine's event loop, CPU or RSS. Answers the bench over IPC.

let sim: SimulatorHandle | null = null;

function started(): SimulatorHandle {
  if (!sim) throw new Error('paper exchange not started');
  return sim;
}

/**
 * Per account key: when the first reduce-only MARKET order (a flatten) at or after `afterMs` arrived. Reads the asked
 * accounts' orders only: the bench polls this every 50 ms while it waits for a flatten, and formatting every order of
 * 10 000 accounts held the exchange's event loop ~10 ms a poll (0.8–0.9 s of its CPU a sweep), the very delay measured.
 */
function flattenArrivals(accountKeys: readonly string[], afterMs: number): Record<string, number | null> {
  const found: Record<string, number | null> = Object.fromEntries(accountKeys.map((k) => [k, null]));
  for (const key of new Set(accountKeys)) {
    for (const o of started().ordersOf(key)) {
      if (o.type !== 'MARKET' || !o.reduceOnly || o.receivedAt < afterMs) continue;
      const seen = found[key];
      if (seen === null || seen === undefined || o.receivedAt < seen) found[key] = o.receivedAt;
    }
  }
  return found;
}

/**
 * Request weight per minute (epoch minute) and per method + path, with the statuses answered: where the budget went.
 * A status key carries the Binance error code when there is one ("400 -5022", "400 -2013"): a 400 alone does not
 * tell a post-only refusal from an order that does not exist.
 */
function weightByPath(): Record<string, Record<string, { weight: number; requests: number; statuses: Record<string, number> }>> {
  const out: Record<string, Record<string, { weight: number; requests: number; statuses: Record<string, number> }>> = {};
  for (const r of started().requests()) {
    const minute = (out[String(Math.floor(r.receivedAt / 60_000))] ??= {});
    const entry = (minute[`${r.method} ${r.path}`] ??= { weight: 0, requests: 0, statuses: {} });
    entry.weight += r.weight;
    entry.requests += 1;
    const status = r.code === undefined ? String(r.status) : `${r.status} ${r.code}`;
    entry.statuses[status] = (entry.statuses[status] ?? 0) + 1;
  }
  return out;
}

async function handle(request: ExchangeRequest): Promise<unknown> {
  switch (request.op) {
    case 'start': {
      sim = await startSimulator(request.options as SimulatorOptions);
      return { restBaseUrl: sim.restBaseUrl, wsBaseUrl: sim.wsBaseUrl };
    }
    case 'faults':
      Object.assign(started().faults, request.faults);
      return null;
    case 'setMid': {
      const atMs = Date.now();
      started().setMid(request.symbol, request.price);
      return atMs;
    }
    case 'flattens':
      return flattenArrivals(request.accountKeys, request.afterMs);
    case 'orderCount':
      return started().orders().length;
    case 'weightByPath':
      return weightByPath();
    case 'close':
      await sim?.close();
      sim = null;
      setImmediate(() => process.exit(0));
      return null;
  }
}

process.on('message', (message: { id: number; request: ExchangeRequest }) => {
  handle(message.request).then(
    (value) => process.send?.({ id: message.id, ok: true, value } satisfies ExchangeReply),
    (error: unknown) => process.send?.({ id: message.id, ok: false, error: String(error) } satisfies ExchangeReply),
  );
});
