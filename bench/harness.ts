import { createClient } from '@redis/client';
import { appendInPipelines } from './append-pipelines.js';
import type { AppendReply, AppendRequest } from './append-worker.js';
import type { FollowerAnswer, FollowerRequest } from './reply-follower.js';
import { streamNames } from '../src/log/port.js';
import { forkBenchChild } from './common.js';

// The bench's side of the command and outbound streams, on connections of its own: the engine's log never
// carries a bench read or write (a harness read queued on the engine's blocking connection used to sit in
// front of the engine's XREADGROUP and slow it ~3×). Appends go out as explicit pipelines with the client's
// per-command timeout off; a process of its own follows the outbound stream and keeps the final replies by command id
// (reply-follower.ts), and another appends the bulk of the commands (append-worker.ts).

/** Commands per explicit pipeline when appending in bulk. */
const appendPipelineDepth = 64;

export interface Harness {
  append(json: string): Promise<void>;
  /** Appends in explicit pipelines, in order. */
  appendAll(jsons: readonly string[]): Promise<void>;
  /** appendAll from the harness's producer process (append-worker.ts), which shares neither the engine's event loop nor its CPU and RSS figures. */
  appendAllElsewhere(jsons: readonly string[]): Promise<void>;
  /**
   * Waits until `count` final replies (done / rejected) to commands whose id starts with `tag` + ':' were seen, or
   * `timeoutMs` passed; resolves with the count seen (by the reply follower, reply-follower.ts).
   */
  waitForFinalReplies(tag: string, count: number, timeoutMs: number): Promise<number>;
  waitForReply(commandId: string, timeoutMs: number): Promise<'done' | 'rejected' | undefined>;
  /** Redis's total time in scripts (EVALSHA, µs) since its stats were last reset; null if INFO does not say. */
  scriptMicros(): Promise<number | null>;
  /** Redis's CPU time so far, user + system (µs; INFO cpu), null when it does not say. */
  redisCpuMicros(): Promise<number | null>;
  /** Redis's main thread's CPU time so far (µs; INFO cpu): the one thread that runs every command. */
  redisMainThreadCpuMicros(): Promise<number | null>;
  close(): Promise<void>;
}

export async function openHarness(url: string, keyPrefix: string): Promise<Harness> {
  const commandsKey = `${keyPrefix}${streamNames.commands}`;
  const outboundKey = `${keyPrefix}${streamNames.outbound}`;
  const writer = createClient({ url, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
  await writer.connect();
  const last = (await writer.xRevRange(outboundKey, '+', '-', { COUNT: 1 })) as { id: string }[];
  const producer = await startProducer(url, commandsKey);
  const follower = await startFollower(url, outboundKey, last[0]?.id ?? '0-0');

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
    async waitForFinalReplies(tag, count, timeoutMs) {
      const answer = await follower.ask((id) => ({ id, finalReplies: { tag, count, timeoutMs } }));
      if (!('count' in answer)) throw new Error(`reply follower: unexpected answer ${JSON.stringify(answer)}`);
      return answer.count;
    },
    async waitForReply(commandId, timeoutMs) {
      const answer = await follower.ask((id) => ({ id, reply: { commandId, timeoutMs } }));
      if (!('status' in answer)) throw new Error(`reply follower: unexpected answer ${JSON.stringify(answer)}`);
      return answer.status ?? undefined;
    },
    async scriptMicros() {
      const info = await writer.info('commandstats');
      const match = /cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(info);
      return match ? Number(match[1]) : null;
    },
    redisCpuMicros: () => redisCpu(writer, ''),
    redisMainThreadCpuMicros: () => redisCpu(writer, '_main_thread'),
    async close() {
      writer.destroy();
      await producer.close();
      await follower.close();
    },
  };
}

interface Follower {
  /** Sends a question (built with its id) and resolves with its answer. */
  ask(question: (id: number) => FollowerRequest): Promise<Exclude<FollowerAnswer, 'ready' | { error: string }>>;
  close(): Promise<void>;
}

/** The reply follower process (reply-follower.ts), reading the outbound stream after `afterId`. */
async function startFollower(url: string, key: string, afterId: string): Promise<Follower> {
  const child = forkBenchChild('reply-follower.ts');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting = new Map<number, { resolve: (answer: FollowerAnswer) => void; reject: (error: Error) => void }>();
  let ready: (() => void) | null = null;
  let failed: Error | null = null;
  child.on('message', (answer: FollowerAnswer) => {
    if (answer === 'ready') return ready?.();
    if ('error' in answer) {
      failed = new Error(`reply follower: ${answer.error}`);
      for (const w of waiting.values()) w.reject(failed);
      return waiting.clear();
    }
    waiting.get(answer.id)?.resolve(answer);
    waiting.delete(answer.id);
  });
  void exited.then(() => {
    for (const w of waiting.values()) w.reject(new Error('reply follower exited'));
    waiting.clear();
  });
  await new Promise<void>((resolve) => {
    ready = resolve;
    child.send({ connect: { url, key, afterId } } satisfies FollowerRequest);
  });
  let nextId = 0;
  return {
    ask(question) {
      if (failed) return Promise.reject(failed);
      nextId += 1;
      const id = nextId;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (answer: FollowerAnswer) => void, reject });
        child.send(question(id));
      });
    },
    async close() {
      child.send('close' satisfies FollowerRequest);
      await exited;
    },
  };
}

interface Producer {
  ask(request: AppendRequest): Promise<AppendReply>;
  close(): Promise<void>;
}

/** The producer process (append-worker.ts), connected to Redis. Requests are answered in order, one reply each. */
async function startProducer(url: string, key: string): Promise<Producer> {
  const child = forkBenchChild('append-worker.ts');
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

/** Redis's CPU time (user + system, µs) from INFO cpu: the process's (suffix '') or its main thread's ('_main_thread'). */
async function redisCpu(client: { info(section: string): Promise<string> }, suffix: '' | '_main_thread'): Promise<number | null> {
  const info = await client.info('cpu');
  const seconds = (name: string): number | null => {
    const match = new RegExp(`^${name}${suffix}:([0-9.]+)`, 'm').exec(info);
    return match ? Number(match[1]) : null;
  };
  const user = seconds('used_cpu_user');
  const system = seconds('used_cpu_sys');
  return user === null || system === null ? null : Math.round((user + system) * 1e6);
}
