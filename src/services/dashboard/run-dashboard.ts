import { z } from 'zod';
import { envSchema, parseEnvWith } from '../../config/env.js';
import { openLog } from '../../log/open.js';
import { clusterChoiceOf, openPartitionLogs } from '../../log/partition-logs.js';
import { connectRedis } from '../../log/redis-connection.js';
import { readClusterStatus } from '../../cluster/cluster-status.js';
import { listenForStop, parseFlags } from '../../util/args.js';
import { createLogger } from '../../util/logger.js';
import { startDashboard } from './server.js';

// `quant-engine dashboard`: the web dashboard against the same log as the engine (Redis with REDIS_URL,
// else the SQLite file of a running `npm start`). The token is read from the environment only: a flag
// would show it in `ps`.

export const dashboardEnvSchema = envSchema
  .pick({
    REDIS_URL: true,
    QE_REDIS_PREFIX: true,
    QE_SQLITE_PATH: true,
    QE_ADMIN_IDS: true,
    QE_RUN_SECONDS: true,
    QE_REDIS_CLUSTER_URLS: true,
    QE_PARTITIONS: true,
  })
  .extend({
    QE_DASHBOARD_HOST: z.string().min(1).default('127.0.0.1'),
    QE_DASHBOARD_PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** 1 lets the page start live sessions; default paper only (the engine still needs LIVE_TRADING=1 and an approval). */
    QE_DASHBOARD_LIVE_START: z.enum(['0', '1']).default('0'),
    QE_DASHBOARD_TOKEN: z
      .string()
      .optional()
      .transform((t) => (t === undefined || t === '' ? null : t)),
  });

export type DashboardEnv = z.infer<typeof dashboardEnvSchema>;

export function readDashboardEnv(source: NodeJS.ProcessEnv = process.env): DashboardEnv {
  return parseEnvWith(dashboardEnvSchema, source);
}

/** Flags: --host, --port, --redis-url, --redis-prefix, --sqlite-path, --cluster-urls, --partitions override the environment. */
export async function runDashboard(argv: string[]): Promise<void> {
  const flags = parseFlags(argv);
  // Before the setup: a signal during it stops the service once set up, cleanly (util/args.ts).
  const stop = listenForStop();
  const env = readDashboardEnv({
    ...process.env,
    ...(flags.host ? { QE_DASHBOARD_HOST: flags.host } : {}),
    ...(flags.port ? { QE_DASHBOARD_PORT: flags.port } : {}),
  });
  const logger = createLogger('dashboard');
  // On a Redis Cluster (`--cluster-urls`, `--partitions`) the page follows every partition's outbound stream and
  // routes each command to its user's partition.
  const cluster = clusterChoiceOf(flags, env, flags['redis-prefix'] ?? env.QE_REDIS_PREFIX);
  const partitions = cluster ? openPartitionLogs(cluster) : null;
  // Read-only, for the page's cluster panel (who holds each partition's lease, its lag).
  const clusterConn = cluster ? await connectRedis({ clusterUrls: cluster.clusterUrls }) : null;
  const log = partitions
    ? await partitions.log(0)
    : await openLog({
        redisUrl: flags['redis-url'] ?? env.REDIS_URL,
        redisPrefix: flags['redis-prefix'] ?? env.QE_REDIS_PREFIX,
        sqlitePath: flags['sqlite-path'] ?? env.QE_SQLITE_PATH,
      });
  try {
    await log.init();
    const dashboard = await startDashboard({
      log,
      ...(partitions && { partitions }),
      ...(cluster && clusterConn && { clusterStatus: () => readClusterStatus(clusterConn, cluster.prefix, cluster.partitionCount) }),
      host: env.QE_DASHBOARD_HOST,
      port: env.QE_DASHBOARD_PORT,
      token: env.QE_DASHBOARD_TOKEN,
      adminUserId: env.QE_ADMIN_IDS[0] ?? 'operator',
      allowLiveStart: env.QE_DASHBOARD_LIVE_START === '1',
      logger,
    });
    // Machine-readable line for supervisors and tests; the token is never printed.
    process.stdout.write(`${JSON.stringify({ dashboard: dashboard.url, auth: env.QE_DASHBOARD_TOKEN !== null })}\n`);
    const why = await stop.until(env.QE_RUN_SECONDS);
    logger.info({ why }, 'stopping');
    await dashboard.close();
  } finally {
    if (partitions) await partitions.close();
    else await log.close();
    clusterConn?.destroy();
  }
}
