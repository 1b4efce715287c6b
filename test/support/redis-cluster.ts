import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

// A three-master Redis Cluster on loopback for tests (issue 13). Test files that need it call
// `useRedisCluster()` in beforeAll and the returned `release()` in afterAll; `.ci/run` stays `npm test`.
// The nodes are daemons in one fixed directory per base port, so several test files (forks) and several
// vitest runs share one cluster: each user registers a file named by its pid, and the last one to leave shuts
// the nodes down. A cluster left behind by a killed run is healthy and simply reused by the next one.
// Run by hand: `npx tsx test/support/redis-cluster.ts start|stop`.

const run = promisify(execFile);

/** Base port of the three masters (their cluster bus ports are these + 10000). */
export const clusterBasePort = Number(process.env.QE_TEST_CLUSTER_PORT ?? 7100);
export const clusterMasterCount = 3;
/** Node timeout of the cluster: failure detection (not exercised here) and gossip pace. */
const clusterNodeTimeoutMs = 2_000;
/** How long a start may take before the test fails: generous, a loaded 2-core machine is slow to fork. */
const clusterStartTimeoutMs = 60_000;
/** Polling period while waiting for nodes or for the lock. */
const clusterPollMs = 50;

const ports = Array.from({ length: clusterMasterCount }, (_, i) => clusterBasePort + i);
const stateDir = join(tmpdir(), `qe-redis-cluster-${clusterBasePort}`);
const usersDir = join(stateDir, 'users');
const lockDir = join(stateDir, 'lock');

/** redis:// URLs of the masters: any one is enough as a root node, all are given so one slow node is no hindrance. */
export const clusterUrls = ports.map((p) => `redis://127.0.0.1:${p}`);

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 });
  return stdout;
}

async function answers(port: number): Promise<boolean> {
  return cli(port, 'ping').then(
    (out) => out.trim() === 'PONG',
    () => false,
  );
}

/** Every master sees a whole, healthy cluster of all masters (so any root node gives a client the full map). */
async function healthy(): Promise<boolean> {
  for (const port of ports) {
    const info = await cli(port, 'cluster', 'info').catch(() => '');
    const field = (name: string) => info.match(new RegExp(`^${name}:(\\S+)`, 'm'))?.[1];
    if (field('cluster_state') !== 'ok') return false;
    if (field('cluster_slots_ok') !== '16384') return false;
    if (field('cluster_known_nodes') !== String(clusterMasterCount)) return false;
  }
  return true;
}

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + clusterStartTimeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}`);
    await sleep(clusterPollMs);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A cross-process lock (mkdir is atomic); a lock whose holder died is taken over. */
async function withLock<T>(body: () => Promise<T>): Promise<T> {
  mkdirSync(stateDir, { recursive: true });
  const deadline = Date.now() + clusterStartTimeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readFileSafe(join(lockDir, 'pid')));
      if (holder > 0 && !alive(holder)) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('redis cluster: timed out waiting for the lock');
      await sleep(clusterPollMs);
    }
  }
  try {
    return await body();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A Redis on one of our ports that this harness did not start (another project's, a helper's) is never shut down. */
async function assertOurs(port: number): Promise<void> {
  const dir = (await cli(port, 'config', 'get', 'dir').catch(() => '')).split('\n')[1]?.trim() ?? '';
  if (dir !== join(stateDir, String(port))) {
    throw new Error(`redis cluster: port ${port} is taken by a Redis this harness did not start (dir ${dir}); set QE_TEST_CLUSTER_PORT`);
  }
}

async function shutdownNodes(): Promise<void> {
  for (const port of ports) if (await answers(port)) await assertOurs(port);
  for (const port of ports) await cli(port, 'shutdown', 'nosave').catch(() => undefined);
  await until('the nodes to stop', async () => !(await Promise.all(ports.map(answers))).some(Boolean));
}

async function startNodes(): Promise<void> {
  if ((await Promise.all(ports.map(answers))).some(Boolean)) await shutdownNodes(); // half-made: start afresh
  for (const port of ports) {
    const dir = join(stateDir, String(port));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await run('redis-server', [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--cluster-enabled', 'yes',
      '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(clusterNodeTimeoutMs),
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'yes',
      '--logfile', join(dir, 'redis.log'),
      '--pidfile', join(dir, 'redis.pid'),
    ]); // prettier-ignore
  }
  await until('the nodes to answer', async () => (await Promise.all(ports.map(answers))).every(Boolean));
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
    timeout: clusterStartTimeoutMs,
  });
  await until('the cluster state to be ok on every node', healthy);
}

export interface ClusterUse {
  urls: string[];
  /** Unregisters this user; the last one shuts the nodes down. */
  release: () => Promise<void>;
}

/** Starts the cluster unless a healthy one is running, and registers this process as a user of it. */
export async function useRedisCluster(): Promise<ClusterUse> {
  const userFile = join(usersDir, `${process.pid}-${randomBytes(4).toString('hex')}`);
  await withLock(async () => {
    if (!(await healthy())) await startNodes();
    mkdirSync(usersDir, { recursive: true });
    writeFileSync(userFile, String(process.pid));
  });
  return {
    urls: clusterUrls,
    release: () =>
      withLock(async () => {
        rmSync(userFile, { force: true });
        const others = readdirSync(usersDir).filter((f) => alive(Number(f.split('-')[0])));
        if (others.length === 0) await shutdownNodes();
      }),
  };
}

/** Keys of each master, for tests that look where a key landed: node port → keys matching the pattern. */
export async function keysByNode(pattern: string): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const port of ports) {
    const keys = (await cli(port, '--scan', '--pattern', pattern)).split('\n').filter((k) => k.length > 0);
    out.set(port, keys.sort());
  }
  return out;
}

/** Deletes every key under `prefix` on every master, one key at a time (keys of a node may be in different slots). */
export async function deleteClusterKeys(prefix: string): Promise<void> {
  if (prefix.length === 0) throw new Error('refusing to delete keys without a prefix');
  for (const keys of (await keysByNode(`${prefix}*`)).entries()) {
    const [port, list] = keys;
    for (const key of list) await cli(port, 'unlink', key);
  }
}

if (process.argv[1]?.endsWith('redis-cluster.ts')) {
  const action = process.argv[2];
  if (action === 'start') await withLock(async () => (await healthy()) || (await startNodes()));
  else if (action === 'stop') await withLock(shutdownNodes);
  else throw new Error('usage: redis-cluster.ts start|stop');
  console.log(`redis cluster ${action}: ${clusterUrls.join(' ')}`);
}
