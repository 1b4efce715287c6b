import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimFaults, SimulatorOptions } from '../src/paper-exchange/server.js';

// The bench's handle on the paper exchange running in a child process (exchange-child.ts).

const exchangeProfileDir = process.env.BENCH_EXCHANGE_PROFILE_DIR;

export type ExchangeRequest =
  | { op: 'start'; options: SimulatorOptions }
  | { op: 'faults'; faults: Partial<Omit<SimFaults, 'dropWsConnections'>> }
  | { op: 'setMid'; symbol: string; price: number }
  | { op: 'flattens'; accountKeys: string[]; afterMs: number }
  | { op: 'orderCount' }
  | { op: 'weightByPath' }
  | { op: 'close' };

export type ExchangeReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface PaperExchangeProcess {
  restBaseUrl: string;
  wsBaseUrl: string;
  setFaults(faults: Partial<Omit<SimFaults, 'dropWsConnections'>>): Promise<void>;
  /** Jumps the mid; resolves with the exchange's wall clock just before the jump (ms). */
  setMid(symbol: string, price: number): Promise<number>;
  /** Per account key: arrival (exchange wall clock, ms) of its first flatten order at or after `afterMs`, or null. */
  flattens(accountKeys: string[], afterMs: number): Promise<Record<string, number | null>>;
  orderCount(): Promise<number>;
  /** Request weight per epoch minute and per `METHOD /path`, with the HTTP statuses answered (a diagnosis aid). */
  weightByPath(): Promise<Record<string, Record<string, { weight: number; requests: number; statuses: Record<string, number> }>>>;
  close(): Promise<void>;
}

export async function startPaperExchangeProcess(options: SimulatorOptions): Promise<PaperExchangeProcess> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./exchange-child.ts', import.meta.url)), [], {
    // BENCH_EXCHANGE_PROFILE_DIR=DIR: a CPU profile of the simulator's whole life, written there when it exits.
    execArgv: ['--import', 'tsx', ...(exchangeProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${exchangeProfileDir}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  child.on('message', (reply: ExchangeReply) => {
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if (reply.ok) w.resolve(reply.value);
    else w.reject(new Error(`paper exchange: ${reply.error}`));
  });
  child.on('exit', () => {
    for (const w of waiting.values()) w.reject(new Error('paper exchange process exited'));
    waiting.clear();
  });
  const ask = (request: ExchangeRequest): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ id, request });
    });
  const urls = (await ask({ op: 'start', options })) as { restBaseUrl: string; wsBaseUrl: string };
  return {
    ...urls,
    setFaults: async (faults) => void (await ask({ op: 'faults', faults })),
    setMid: async (symbol, price) => (await ask({ op: 'setMid', symbol, price })) as number,
    flattens: async (accountKeys, afterMs) => (await ask({ op: 'flattens', accountKeys, afterMs })) as Record<string, number | null>,
    orderCount: async () => (await ask({ op: 'orderCount' })) as number,
    weightByPath: async () => (await ask({ op: 'weightByPath' })) as Awaited<ReturnType<PaperExchangeProcess['weightByPath']>>,
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await ask({ op: 'close' }).catch(() => undefined);
      await exited;
    },
  };
}
