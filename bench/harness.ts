import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from '@redis/client';
import { appendInPipelines } from './append-pipelines.js';
import type { AppendReply, AppendRequest } from './append-worker.js';
import { streamNames } from '../src/log/port.js';
import { sleep } from './common.js';

// The bench's side of the command and outbound streams, on connections of its own: the engine's log never
// carries a bench read or write (a harness read queued on the engine's blocking connection used to sit in
// front of the engine's XREADGROUP and slow it ~3×). Appends go out as explicit pipelines with the client's
// per-command timeout off; one reader follows the outbound stream and keeps the final replies by command id.

/** Commands per explicit pipeline when appending in bulk. */
const appendPipelineDepth = 64;
/** Outbound entries read per XREAD, and how long one read blocks (ms). */
const readBatchEntries = 1_000;
const readBlockMs = 100;

export interface Harness {
  append(json: string): Promise<void>;
  /** Appends in explicit pipelines, in order. */
  appendAll(jsons: readonly string[]): Promise<void>;
  /** appendAll from the harness's producer process (append-worker.ts), which shares neither the engine's event loop nor its CPU and RSS figures. */
  appendAllElsewhere(jsons: readonly string[]): Promise<void>;
  /** Final replies (done / rejected) seen so far to commands whose id starts with `tag` + ':'. */
  finalReplies(tag: string): number;
  /** The final status of a command, or undefined while it has none. */
  statusOf(commandId: string): 'done' | 'rejected' | undefined;
  /** Waits until `count` final replies to `tag`'s commands were seen, or `timeoutMs` passed; resolves with the count seen. */
  waitForFinalReplies(tag: string, count: number, timeoutMs: number): Promise<number>;
  waitForReply(commandId: string, timeoutMs: number): Promise<'done' | 'rejected' | undefined>;
  /** Redis's total time in scripts (EVALSHA, µs) since its stats were last reset; null if INFO does not say. */
  scriptMicros(): Promise<number | null>;
  close(): Promise<void>;
}

export async function openHarness(url: string, keyPrefix: string): Promise<Harness> {
  const commandsKey = `${keyPrefix}${streamNames.commands}`;
  const outboundKey = `${keyPrefix}${streamNames.outbound}`;
  const writer = createClient({ url, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
  await writer.connect();
  const reader = writer.duplicate();
  await reader.connect();
  const last = (await writer.xRevRange(outboundKey, '+', '-', { COUNT: 1 })) as { id: string }[];
  let cursor = last[0]?.id ?? '0-0';
  const finals = new Map<string, 'done' | 'rejected'>();
  const finalsByTag = new Map<string, number>();
  const tagOf = (commandId: string): string => commandId.slice(0, Math.max(0, commandId.indexOf(':')));
  let closed = false;
  const producer = await startProducer(url, commandsKey);

  const follow = (async () => {
    while (!closed) {
      const reply = (await reader.xRead({ key: outboundKey, id: cursor }, { COUNT: readBatchEntries, BLOCK: readBlockMs })) as
        { messages: { id: string; message: { data?: string } }[] }[] | null;
      for (const entry of reply?.[0]?.messages ?? []) {
        cursor = entry.id;
        const data = entry.message.data ?? '';
        // Only replies are parsed: equity samples and alerts are most of the stream and none of the bench's business.
        if (!data.startsWith('{"type":"reply"')) continue;
        const event = JSON.parse(data) as { commandId: string; status: string };
        if ((event.status !== 'done' && event.status !== 'rejected') || finals.has(event.commandId)) continue;
        finals.set(event.commandId, event.status);
        const tag = tagOf(event.commandId);
        finalsByTag.set(tag, (finalsByTag.get(tag) ?? 0) + 1);
      }
    }
  })();

  const waitUntil = async (ready: () => boolean, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!ready() && Date.now() < deadline) await sleep(2);
  };

  return {
    async append(json) {
      await writer.xAdd(commandsKey, '*', { data: json });
    },
    async appendAll(jsons) {
      await appendInPipelines(writer, commandsKey, jsons, appendPipelineDepth);
    },
    async appendAllElsewhere(jsons) {
      const reply = await producer.ask({ jsons });
      if (typeof reply === 'object' && 'error' in reply) throw new Error(`producer process: ${reply.error}`);
    },
    finalReplies: (tag) => finalsByTag.get(tag) ?? 0,
    statusOf: (commandId) => finals.get(commandId),
    async waitForFinalReplies(tag, count, timeoutMs) {
      await waitUntil(() => (finalsByTag.get(tag) ?? 0) >= count, timeoutMs);
      return finalsByTag.get(tag) ?? 0;
    },
    async waitForReply(commandId, timeoutMs) {
      await waitUntil(() => finals.has(commandId), timeoutMs);
      return finals.get(commandId);
    },
    async scriptMicros() {
      const info = await writer.info('commandstats');
      const match = /cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(info);
      return match ? Number(match[1]) : null;
    },
    async close() {
      closed = true;
      await follow;
      writer.destroy();
      reader.destroy();
      await producer.close();
    },
  };
}

interface Producer {
  ask(request: AppendRequest): Promise<AppendReply>;
  close(): Promise<void>;
}

/** The producer process (append-worker.ts), connected to Redis. Requests are answered in order, one reply each. */
async function startProducer(url: string, key: string): Promise<Producer> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./append-worker.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: ((reply: AppendReply) => void)[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('message', (reply: AppendReply) => waiting.shift()?.(reply));
  const ask = (request: AppendRequest): Promise<AppendReply> =>
    new Promise((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(() => reject(new Error('producer process exited')));
      child.send(request);
    });
  const ready = await ask({ connect: { url, key, pipelineDepth: appendPipelineDepth } });
  if (ready !== 'ready') throw new Error(`producer process: ${JSON.stringify(ready)}`);
  return {
    ask,
    async close() {
      child.send('close');
      await exited;
    },
  };
}
