import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { processAlive } from '../../src/util/process-gone.js';

// Redis Clusters on loopback for tests (issue 13), started by the tests themselves so `.ci/run` stays `npm test`.
// Most tests share one three-master cluster: they call `useRedisCluster()` in beforeAll and the returned
// `release()` in afterAll. A test that kills nodes builds its own with `clusterHarness` (other ports, replicas).
// The nodes are daemons in one fixed directory per base port, so several test files (forks) and several
// vitest runs share one cluster: each user registers a file named by its pid, and the last one to leave shuts
// the nodes down. A cluster left behind by a killed run is healthy and simply reused by the next one.
// Run the shared one by hand: `npx tsx test/support/redis-cluster.ts start|stop`.

const run = promisify(execFile);

export interface ClusterUse {
  urls: string[];
  /** Unregisters this user; the last one shuts the nodes down. */
  release: () => Promise<void>;
}

export interface ClusterSpec {
  /** Port of the first node (cluster bus ports are these + 10000); masters first, then replicas. */
  basePort: number;
  masters: number;
  /** Replicas of each master (0: masters only). */
  replicasPerMaster: number;
  /** Node timeout: failure detection (a master unreachable this long is failed over) and gossip pace. */
  nodeTimeoutMs: number;
}

export interface ClusterHarness {
  /** redis:// URLs of the masters at start: any one is enough as a root node, all are given so one slow node is no hindrance. */
  urls: string[];
  /** Every node's port, masters first. */
  ports: number[];
  /** Starts the cluster unless a healthy one is running, and registers this process as a user of it. */
  use(): Promise<ClusterUse>;
  /** Starts or reuses the cluster without registering a user (`npx tsx … start`). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Keys of each node, for tests that look where a key landed: node port → keys matching the pattern. */
  keysByNode(pattern: string): Promise<Map<number, string[]>>;
  /** Deletes every key under `prefix` on every master, one key at a time (keys of a node may be in different slots). */
  deleteKeys(prefix: string): Promise<void>;
  /** The port of the master now serving `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** Kills one node with SIGKILL (a crash: no shutdown, no save). */
  kill(port: number): Promise<void>;
  /** Starts a killed node again with its cluster config: it rejoins, as a replica if it was failed over. */
  restart(port: number): Promise<void>;
  /** Every slot served, and every node answering and agreeing the cluster is ok. */
  healthy(): Promise<boolean>;
}

/** How long a start may take before the test fails: generous, a loaded 2-core machine is slow to fork. */
const clusterStartTimeoutMs = 60_000;
/** Polling period while waiting for nodes or for the lock. */
const clusterPollMs = 50;

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

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + clusterStartTimeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`redis cluster: timed out waiting for ${what}`);
    await sleep(clusterPollMs);
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function clusterHarness(spec: ClusterSpec): ClusterHarness {
  const masterPorts = Array.from({ length: spec.masters }, (_, i) => spec.basePort + i);
  const ports = Array.from({ length: spec.masters * (1 + spec.replicasPerMaster) }, (_, i) => spec.basePort + i);
  const stateDir = join(tmpdir(), `qe-redis-cluster-${spec.basePort}`);
  const usersDir = join(stateDir, 'users');
  const lockDir = join(stateDir, 'lock');
  const nodeDir = (port: number) => join(stateDir, String(port));

  /** Every node sees a whole, healthy cluster of all nodes (so any root node gives a client the full map). */
  async function healthy(): Promise<boolean> {
    for (const port of ports) {
      const info = await cli(port, 'cluster', 'info').catch(() => '');
      const field = (name: string) => info.match(new RegExp(`^${name}:(\\S+)`, 'm'))?.[1];
      if (field('cluster_state') !== 'ok') return false;
      if (field('cluster_slots_ok') !== '16384') return false;
      if (field('cluster_known_nodes') !== String(ports.length)) return false;
      if (field('cluster_size') !== String(spec.masters)) return false;
      // A replica counts once it is in sync: until then WAIT on its master answers 0.
      const replication = await cli(port, 'info', 'replication').catch(() => '');
      const role = replication.match(/^role:(\S+)/m)?.[1];
      if (role === 'master' && Number(replication.match(/^connected_slaves:(\d+)/m)?.[1]) < spec.replicasPerMaster) return false;
      if (role === 'slave' && replication.match(/^master_link_status:(\S+)/m)?.[1] !== 'up') return false;
    }
    return true;
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
        if (holder > 0 && !processAlive(holder)) rmSync(lockDir, { recursive: true, force: true });
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

  /** A Redis on one of our ports that this harness did not start (another project's, a helper's) is never shut down. */
  async function assertOurs(port: number): Promise<void> {
    const dir = (await cli(port, 'config', 'get', 'dir').catch(() => '')).split('\n')[1]?.trim() ?? '';
    if (dir !== nodeDir(port)) {
      throw new Error(`redis cluster: port ${port} is taken by a Redis this harness did not start (dir ${dir}); set QE_TEST_CLUSTER_PORT`);
    }
  }

  async function shutdownNodes(): Promise<void> {
    for (const port of ports) if (await answers(port)) await assertOurs(port);
    for (const port of ports) await cli(port, 'shutdown', 'nosave').catch(() => undefined);
    await until('the nodes to stop', async () => !(await Promise.all(ports.map(answers))).some(Boolean));
  }

  async function startNode(port: number): Promise<void> {
    const dir = nodeDir(port);
    await run('redis-server', [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--cluster-enabled', 'yes',
      '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(spec.nodeTimeoutMs),
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'yes',
      '--logfile', join(dir, 'redis.log'),
      '--pidfile', join(dir, 'redis.pid'),
    ]); // prettier-ignore
  }

  async function startNodes(): Promise<void> {
    if ((await Promise.all(ports.map(answers))).some(Boolean)) await shutdownNodes(); // half-made: start afresh
    for (const port of ports) {
      rmSync(nodeDir(port), { recursive: true, force: true });
      mkdirSync(nodeDir(port), { recursive: true });
      await startNode(port);
    }
    await until('the nodes to answer', async () => (await Promise.all(ports.map(answers))).every(Boolean));
    // redis-cli makes the first `masters` nodes given the masters and gives each its replicas from the rest.
    await run(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', String(spec.replicasPerMaster), '--cluster-yes'],
      { timeout: clusterStartTimeoutMs },
    );
    await until('the cluster state to be ok on every node', healthy);
  }

  async function keysByNode(pattern: string): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (const port of ports) {
      if ((await cli(port, 'role').catch(() => '')).split('\n')[0]?.trim() !== 'master') continue;
      const keys = (await cli(port, '--scan', '--pattern', pattern)).split('\n').filter((k) => k.length > 0);
      out.set(port, keys.sort());
    }
    return out;
  }

  return {
    urls: masterPorts.map((p) => `redis://127.0.0.1:${p}`),
    ports,
    healthy,
    async use() {
      const userFile = join(usersDir, `${process.pid}-${randomBytes(4).toString('hex')}`);
      await withLock(async () => {
        if (!(await healthy())) await startNodes();
        mkdirSync(usersDir, { recursive: true });
        writeFileSync(userFile, String(process.pid));
      });
      return {
        urls: masterPorts.map((p) => `redis://127.0.0.1:${p}`),
        release: () =>
          withLock(async () => {
            rmSync(userFile, { force: true });
            const others = readdirSync(usersDir).filter((f) => processAlive(Number(f.split('-')[0])));
            if (others.length === 0) await shutdownNodes();
          }),
      };
    },
    start: () => withLock(async () => void ((await healthy()) || (await startNodes()))),
    stop: () => withLock(shutdownNodes),
    keysByNode,
    async deleteKeys(prefix) {
      if (prefix.length === 0) throw new Error('refusing to delete keys without a prefix');
      for (const [port, list] of await keysByNode(`${prefix}*`)) {
        for (const key of list) await cli(port, 'unlink', key);
      }
    },
    async masterOf(key) {
      for (const port of ports) {
        const slot = (await cli(port, 'cluster', 'keyslot', key).catch(() => '')).trim();
        if (slot === '') continue;
        // CLUSTER NODES: "<id> <ip:port@bus> <flags> <master> <ping> <pong> <epoch> <link> <slot ranges…>".
        const nodes = (await cli(port, 'cluster', 'nodes')).split('\n');
        for (const line of nodes) {
          const fields = line.split(' ');
          if (!fields[2]?.includes('master') || fields[2].includes('fail')) continue;
          for (const range of fields.slice(8)) {
            const [from, to = from] = range.split('-').map(Number);
            if (from !== undefined && to !== undefined && Number(slot) >= from && Number(slot) <= to) return Number(fields[1]?.split(':')[1]?.split('@')[0]);
          }
        }
      }
      throw new Error(`redis cluster: no live master serves ${key}`);
    },
    async kill(port) {
      const pid = Number(readFileSafe(join(nodeDir(port), 'redis.pid')));
      if (!(pid > 0)) throw new Error(`redis cluster: no pid for node ${port}`);
      process.kill(pid, 'SIGKILL');
      await until(`node ${port} to die`, async () => !(await answers(port)));
    },
    async restart(port) {
      rmSync(join(nodeDir(port), 'redis.pid'), { force: true });
      await startNode(port);
      await until(`node ${port} to answer`, () => answers(port));
    },
  };
}

/** Base port of the shared test cluster's three masters (no replicas). */
export const clusterBasePort = Number(process.env.QE_TEST_CLUSTER_PORT ?? 7100);
/** The cluster most tests share: several test files (forks) and vitest runs use one cluster, the last user stops it. */
const shared = clusterHarness({ basePort: clusterBasePort, masters: 3, replicasPerMaster: 0, nodeTimeoutMs: 2_000 });
export const clusterUrls = shared.urls;
export const useRedisCluster = (): Promise<ClusterUse> => shared.use();
export const keysByNode = (pattern: string) => shared.keysByNode(pattern);
export const deleteClusterKeys = (prefix: string) => shared.deleteKeys(prefix);

if (process.argv[1]?.endsWith('redis-cluster.ts')) {
  const action = process.argv[2];
  if (action === 'start') await shared.start();
  else if (action === 'stop') await shared.stop();
  else throw new Error('usage: redis-cluster.ts start|stop');
  console.log(`redis cluster ${action}: ${clusterUrls.join(' ')}`);
}
