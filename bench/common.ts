import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deleteKeysWithPrefix } from '../src/log/redis-keys.js';

// What every bench module shares: the Redis under test, key prefixes of its own, knobs and percentiles.

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A bench module (`file`, beside this one) run in a process of its own under tsx, talking over IPC; its output is ours. */
export function forkBenchChild(file: string, env?: NodeJS.ProcessEnv): ChildProcess {
  return fork(fileURLToPath(new URL(`./${file}`, import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    ...(env && { env }),
  });
}

/** A numeric knob from the environment (BENCH_*), or its default. */
export function knob(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got ${raw}`);
  return value;
}

/** A fresh key prefix per measurement, so runs never see each other's streams. */
export function prefix(label: string): string {
  return `bench:${label}:${Date.now().toString(36)}:`;
}

export function deletePrefix(p: string): Promise<void> {
  return deleteKeysWithPrefix(redisUrl, p);
}

/** Nearest-rank percentile of ascending values; null when there are none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? null;
}

/** Rounded to one decimal. */
export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function perSecond(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round(count / (elapsedMs / 1000)) : 0;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Clock ticks a second in /proc/stat (USER_HZ: 100 on every Linux build Node runs on). */
const procStatTicksPerSecond = 100;

/**
 * CPU time every process on the machine has used since boot, all cores together (µs; /proc/stat's busy columns: all
 * but idle and iowait), or null off Linux. A phase's difference is what the engine, Redis, the harness's processes and
 * anything else running cost together.
 */
export function machineCpuMicros(): number | null {
  let line: string | undefined;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  const fields = line?.trim().split(/\s+/) ?? [];
  if (fields[0] !== 'cpu') return null;
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const [user, nice, system, , , irq, softirq, steal] = fields.slice(1, 9).map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce<number>((acc, v) => acc + (v ?? 0), 0);
  return Number.isFinite(busy) ? Math.round((busy * 1e6) / procStatTicksPerSecond) : null;
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / (1024 * 1024));
}
