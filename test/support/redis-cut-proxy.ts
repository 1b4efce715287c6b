import net from 'node:net';
import type { EngineLog } from '../../src/log/port.js';
import type { RedisLogOptions } from '../../src/log/redis-log.js';
import { openRedisLog } from '../../src/log/redis-log.js';
import { deletePrefix, redisUrl, uniquePrefix } from './redis.js';

// A TCP proxy in front of the test Redis that can lose a script's answer: it relays both ways, and once armed, lets
// the next script call (EVALSHA or EVAL: a commit) reach Redis, then, when Redis answers it, destroys the client's
// connection instead of relaying the answer. The client cannot tell whether its script ran; Redis ran it. Armed with
// reachRedis false, it destroys the connection as the call arrives instead, and the script never runs.

export interface CutProxy {
  /** redis:// url of the proxy. */
  url: string;
  /** Arms the cut of the next script call (one cut); resolves once its connection is destroyed. */
  armCut(options?: CutOptions): Promise<void>;
  /** While true, every new connection is closed at once: Redis is unreachable through the proxy. */
  refuseConnections(refuse: boolean): void;
  /** Closes every connection open now (both sides). */
  dropConnections(): void;
  /** Script answers cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

/** A script call as the client encodes it (RESP bulk strings; node-redis sends command names in capitals). */
const scriptCalls = ['$7\r\nEVALSHA\r\n', '$4\r\nEVAL\r\n'];
/** Redis's answer when it does not have the script yet: the client then sends it with EVAL, which is cut instead. */
const noScript = '-NOSCRIPT';

export interface CutOptions {
  /** Runs once Redis has answered, before the connection is destroyed (to write something meanwhile). */
  beforeCut?: () => Promise<void>;
  /** false: the call never reaches Redis (default true: Redis runs it, its answer is lost). */
  reachRedis?: boolean;
}

interface Armed {
  beforeCut: () => Promise<void>;
  reachRedis: boolean;
  done: () => void;
}

export async function startCutProxy(): Promise<CutProxy> {
  const target = new URL(redisUrl);
  let armed: Armed | null = null;
  let refusing = false;
  let cuts = 0;
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    /** This connection sent the armed script call: its next answer is cut. */
    let cutting: Armed | null = null;
    let cutDone = false;
    const cutNow = (cut: Armed): void => {
      cutDone = true;
      client.pause();
      void cut.beforeCut().finally(() => {
        cuts += 1;
        client.destroy();
        upstream.destroy();
        cut.done();
      });
    };
    client.on('data', (chunk: Buffer) => {
      if (cutDone) return;
      if (armed !== null && cutting === null && scriptCalls.some((call) => chunk.includes(call))) {
        cutting = armed;
        armed = null;
        if (!cutting.reachRedis) return cutNow(cutting);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutDone) return;
      const cut = cutting;
      if (cut === null || chunk.subarray(0, noScript.length).toString('latin1') === noScript) {
        client.write(chunk);
        return;
      }
      cutNow(cut);
    });
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `redis://127.0.0.1:${port}`,
    armCut(options = {}) {
      return new Promise<void>((done) => {
        armed = { beforeCut: options.beforeCut ?? (async () => undefined), reachRedis: options.reachRedis ?? true, done };
      });
    },
    refuseConnections(refuse) {
      refusing = refuse;
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface LogsBehindCutProxy {
  proxy: CutProxy;
  prefix: string;
  /** The log through the proxy (initialised). */
  log: EngineLog;
  /** The same log straight to Redis: what the next boot would read. */
  direct: EngineLog;
  /** Closes both logs and the proxy, and deletes the prefix's keys. */
  close(): Promise<void>;
}

/** A Redis log behind a fresh cut proxy, under a fresh prefix, and the same log straight to Redis. */
export async function logsBehindCutProxy(label: string, options: Omit<RedisLogOptions, 'url' | 'prefix'> = {}): Promise<LogsBehindCutProxy> {
  const proxy = await startCutProxy();
  const prefix = uniquePrefix(label);
  const log = await openRedisLog({ ...options, url: proxy.url, prefix });
  const direct = await openRedisLog({ url: redisUrl, prefix });
  await log.init();
  return {
    proxy,
    prefix,
    log,
    direct,
    async close() {
      await log.close().catch(() => undefined); // a test may leave it reconnecting
      await direct.close();
      await proxy.close();
      await deletePrefix(prefix);
    },
  };
}
