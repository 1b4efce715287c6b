import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createClient } from '@redis/client';
import { perSecond, prefix, redisUrl } from './common.js';

// The ceiling the engine's command rate is compared with: what this Redis takes in raw XADDs.
// @redis/client arms a 5 s AbortSignal per command by default (DEFAULT_COMMAND_TIMEOUT), which is what made
// a Promise.all of single XADDs crawl; the ceiling is an explicit pipeline with the command timeout off
// (commandOptions.timeout = 0: no signal is armed), next to redis-benchmark's own figure where installed.

/** XADDs per explicit pipeline, as redis-benchmark -P 64. */
const pipelineDepth = 64;
const xaddCount = 100_000;
const sequentialCount = 5_000;
const payload = JSON.stringify({ id: 'x', userId: 'u', type: 'status' });

export interface Ceiling {
  redisXaddSequentialPerSecond: number;
  /** Promise.all of single XADDs on a default client (what the bench used to call pipelined). */
  redisXaddConcurrentSinglesPerSecond: number;
  /** Explicit pipelines of 64 XADDs, command timeout off: the ceiling. */
  redisXaddPipelinedPerSecond: number;
  /** redis-benchmark -P 64 XADD on the same Redis; null when redis-benchmark is not installed. */
  redisBenchmarkXaddPerSecond: number | null;
}

export async function measureCeiling(): Promise<Ceiling> {
  const key = `${prefix('xadd')}stream`;
  const fast = createClient({ url: redisUrl, disableOfflineQueue: true, commandOptions: { timeout: 0 } });
  const usual = createClient({ url: redisUrl, disableOfflineQueue: true });
  await fast.connect();
  await usual.connect();
  try {
    let t = performance.now();
    for (let i = 0; i < sequentialCount; i += 1) await usual.xAdd(key, '*', { data: payload });
    const sequential = perSecond(sequentialCount, performance.now() - t);

    t = performance.now();
    await Promise.all(Array.from({ length: sequentialCount }, () => usual.xAdd(key, '*', { data: payload })));
    const concurrentSingles = perSecond(sequentialCount, performance.now() - t);

    // Pipelines kept in flight back to back, so the socket never idles between them.
    const inFlightPipelines = 8;
    t = performance.now();
    let sent = 0;
    const lane = async (): Promise<void> => {
      while (sent < xaddCount) {
        sent += pipelineDepth;
        const multi = fast.multi();
        for (let i = 0; i < pipelineDepth; i += 1) multi.xAdd(key, '*', { data: payload });
        await multi.execAsPipeline();
      }
    };
    await Promise.all(Array.from({ length: inFlightPipelines }, lane));
    const pipelined = perSecond(sent, performance.now() - t);
    await fast.del(key);
    return {
      redisXaddSequentialPerSecond: sequential,
      redisXaddConcurrentSinglesPerSecond: concurrentSingles,
      redisXaddPipelinedPerSecond: pipelined,
      redisBenchmarkXaddPerSecond: await redisBenchmark(`${key}:rb`, fast),
    };
  } finally {
    fast.destroy();
    usual.destroy();
  }
}

async function redisBenchmark(key: string, client: { del(key: string): Promise<unknown> }): Promise<number | null> {
  const url = new URL(redisUrl);
  try {
    const { stdout } = await promisify(execFile)(
      'redis-benchmark',
      ['-h', url.hostname, '-p', url.port || '6379', '-n', String(xaddCount), '-P', String(pipelineDepth), '-q', 'XADD', key, '*', 'data', payload],
      { timeout: 60_000 },
    );
    // "XADD ...: 412371.12 requests per second, p50=..." (the last figure printed wins: -q rewrites the line)
    const matches = [...stdout.matchAll(/([\d.]+) requests per second/g)];
    const last = matches[matches.length - 1]?.[1];
    return last === undefined ? null : Math.round(Number(last));
  } catch {
    return null; // not installed, or it failed: the explicit pipeline above stands alone
  } finally {
    await client.del(key);
  }
}
