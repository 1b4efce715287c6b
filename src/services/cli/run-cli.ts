import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseOutboundEvent } from '../../contract/outbound.js';
import { openLog } from '../../log/open.js';
import type { EngineLog } from '../../log/port.js';
import type { PartitionLogs } from '../../log/command-router.js';
import { appendRoutedCommand, routeCommand, singlePartition } from '../../log/command-router.js';
import type { KeyVault } from '../../secrets/key-vault.js';
import type { LedgerView } from '../../contract/ledger.js';
import { ledgerCsvColumns, ledgerCsvRow, parseLedgerRecord } from '../../contract/ledger.js';
import { ledgerRecords } from '../../log/ledger-pages.js';
import type { CliAction } from './parse.js';
import { CliUsageError, cliUsage, parseCli, splitArgs, wholeAtLeastOne } from './parse.js';
import { ledgerTable, replyLines } from './format.js';
import { historyJson, historyLines } from './history-format.js';
import { endQuietlyOnClosedPipe } from '../../util/closed-pipe.js';
import { readClosedTrades } from '../closed-trades.js';

// The operator CLI: appends a command, waits for the engine's answer on the outbound stream, prints it.
// Exit codes: 0 done, 1 rejected, 2 bad usage, 3 no answer within the timeout.
// The engine, the key store and the key box are imported only by the actions that use them: every module
// loaded is paid for (tsx compiles it) on each call, and a call should take well under a second.

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function runCliAction(
  action: CliAction,
  log: EngineLog,
  io: CliIo,
  timeoutMs: number,
  vault: () => Promise<KeyVault> = noVault,
  /** The partitions commands are routed to (a cluster deployment); absent: `log` is the only one. */
  partitions?: PartitionLogs,
): Promise<number> {
  switch (action.kind) {
    case 'keys-generate':
      io.out((await import('../../secrets/key-box.js')).generateMasterKey());
      return 0;
    case 'keys-rotate': {
      const count = await (await vault()).rotate();
      io.out(action.json ? JSON.stringify({ resealed: count }) : `re-sealed ${count} stored key${count === 1 ? '' : 's'} under QE_MASTER_KEY`);
      return 0;
    }
    case 'help':
      io.out(cliUsage);
      return 0;
    case 'trades':
      return printTrades(action, log, io);
    case 'history': {
      const read = await readClosedTrades(log, action.userId);
      const nowMs = Date.now();
      if (action.json) io.out(JSON.stringify(historyJson(action.what, read, action.count, nowMs)));
      else for (const line of historyLines(action.what, read, action.count, nowMs)) io.out(line);
      return read.unreadable > 0 ? 1 : 0;
    }
    case 'inspect-wal': {
      const all = [];
      for (let after: string | null = null; ;) {
        const batch = await log.readWal(after, 1000);
        if (batch.length === 0) break;
        all.push(...batch);
        after = batch[batch.length - 1]?.id ?? after;
      }
      for (const r of all.slice(-action.last)) io.out(`${r.id} ${r.data}`);
      return 0;
    }
    case 'inspect-dlq': {
      // Only the newest `last` are read; each keeps a bounded prefix of its payload plus rawBytes and rawSha256.
      const [count, dead] = await Promise.all([log.deadLetterCount(), log.readDeadLetters(action.last)]);
      io.err(
        count === 0
          ? 'no dead letters'
          : count === dead.length
            ? `${count} dead letter${count === 1 ? '' : 's'}:`
            : `${count} dead letters; the newest ${dead.length}:`,
      );
      for (const d of dead) io.out(JSON.stringify(d));
      return 0;
    }
    case 'replay-dry-run': {
      const [{ replayLog }, { defaultCoreConfig }] = await Promise.all([import('../../engine/engine.js'), import('../../core/config.js')]);
      const result = await replayLog(log, defaultCoreConfig);
      io.out(
        JSON.stringify(
          { replayedEvents: result.replayedEvents, fromSnapshot: result.fromSnapshot, lastWalId: result.lastWalId, state: result.durable },
          null,
          2,
        ),
      );
      return 0;
    }
    case 'command':
      return sendCommand(action, partitions ?? singlePartition(log), io, timeoutMs);
    case 'cluster':
      io.err('cluster reads a partitioned log on a Redis Cluster: give --cluster-urls (or QE_REDIS_CLUSTER_URLS) and --partitions');
      return 2;
  }
}

/**
 * Appends the command to its partition(s) and waits for the answer of each: one partition answers a user's
 * command; a fan-out (halt, resume-all, users, a route to everyone) is answered once every partition has.
 */
async function sendCommand(action: Extract<CliAction, { kind: 'command' }>, logs: PartitionLogs, io: CliIo, timeoutMs: number): Promise<number> {
  const commandId = action.command.id;
  // Cursors before appending: an answer cannot slip past us.
  const targets = await Promise.all(
    routeCommand(action.command, logs.count).map(async ({ partition }) => {
      const log = await logs.log(partition);
      return { partition, log, cursor: await log.lastOutboundId(), answered: false };
    }),
  );
  await appendRoutedCommand(logs, action.command);
  if (action.json) io.err(`received: ${commandId} appended`);
  let rejected = false;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const waiting = targets.filter((t) => !t.answered);
    if (waiting.length === 0) return rejected ? 1 : 0;
    const blockMs = Math.max(1, Math.min(waiting.length === 1 ? 500 : 100, deadline - Date.now()));
    const batches = await Promise.all(waiting.map((t) => t.log.tailOutbound(t.cursor, 100, blockMs)));
    waiting.forEach((target, i) => {
      for (const record of batches[i] ?? []) {
        target.cursor = record.id;
        const parsed = parseOutboundEvent(record.data);
        if (!parsed.ok) {
          // Someone else's event we cannot read is not our concern; our own reply unreadable is worth a word.
          if (record.data.includes(commandId)) io.err(`skipped outbound entry ${record.id}: ${parsed.reason}`);
          continue;
        }
        const event = parsed.event;
        if (event.type !== 'reply' || event.commandId !== commandId || target.answered) continue;
        if (action.json) io.out(JSON.stringify(event));
        else for (const line of replyLines(event)) (event.status === 'rejected' ? io.err : io.out)(line);
        if (event.status === 'rejected') rejected = true;
        if (event.status !== 'accepted' || action.waitFor === 'result') target.answered = true;
      }
    });
    // One partition that refused: the answer is known (as before partitions, the CLI does not wait for more).
    if (rejected && targets.length === 1) return 1;
    if (batches.every((b) => b.length === 0)) await sleep(1);
  }
  const silent = targets.filter((t) => !t.answered).map((t) => t.partition);
  const where = targets.length === 1 ? '' : ` from partition${silent.length === 1 ? '' : 's'} ${silent.join(', ')}`;
  io.err(`no answer to ${commandId}${where} within ${timeoutMs} ms (is the execution service running?); the command stays queued`);
  return 3;
}

/**
 * The fill ledger, oldest first: CSV (a header, then one row per entry) or one JSON object per line. The ledger is
 * read page by page; with N only the newest N entries are held. A record that cannot be read is named on stderr
 * and skipped, and the exit code is 1: an export with a hole must not look complete.
 */
async function printTrades(action: Extract<CliAction, { kind: 'trades' }>, log: EngineLog, io: CliIo): Promise<number> {
  const filter = {
    ...(action.userId !== undefined ? { userId: action.userId } : {}),
    ...(action.sessionId !== undefined ? { sessionId: action.sessionId } : {}),
  };
  const asTable = !action.csv && action.json !== true;
  const shown: LedgerView[] = [];
  const print = (entry: LedgerView): void => {
    if (asTable) shown.push(entry);
    else io.out(action.csv ? ledgerCsvRow(entry) : JSON.stringify(entry));
  };
  if (action.csv) io.out(ledgerCsvColumns.join(','));
  const newest: LedgerView[] = [];
  let unreadable = 0;
  for await (const r of ledgerRecords(log, filter)) {
    const parsed = parseLedgerRecord(r.id, r.walId, r.data);
    if (!parsed.ok) {
      unreadable += 1;
      io.err(`skipped: ${parsed.reason}`);
    } else if (action.last === null) print(parsed.entry);
    else if (newest.push(parsed.entry) > action.last) newest.shift();
  }
  for (const entry of newest) print(entry);
  if (asTable) for (const line of ledgerTable(shown)) io.out(line);
  if (unreadable > 0) io.err(`${unreadable} ledger entries could not be read (see above)`);
  return unreadable > 0 ? 1 : 0;
}

async function noVault(): Promise<KeyVault> {
  throw new Error('no key store here');
}

const defaultTimeoutMs = 10_000;

/** The process's own output: a reader that closes it early (`| head`) ends the command quietly (util/closed-pipe.ts). */
function processIo(): CliIo {
  endQuietlyOnClosedPipe();
  return { out: (l) => void process.stdout.write(`${l}\n`), err: (l) => void process.stderr.write(`${l}\n`) };
}

export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  // --help or -h anywhere: the usage, as `help` gives it (and as most tools take those flags).
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(cliUsage);
    return 0;
  }
  let action: CliAction;
  let timeoutMs: number;
  const args = splitArgs(argv);
  try {
    action = parseCli(args);
    timeoutMs = args.flags['timeout-ms'] === undefined ? defaultTimeoutMs : wholeAtLeastOne(args.flags['timeout-ms'], '--timeout-ms');
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    // No command at all: the usage. A mistake: one line saying what is wrong and what is accepted.
    io.err(args.positionals.length === 0 ? `${error.message}\n${cliUsage}` : `${error.message} (quant-engine cli help: usage)`);
    return 2;
  }
  if (action.kind === 'help' || action.kind === 'keys-generate') {
    // Neither reads the log: no database needed.
    io.out(action.kind === 'help' ? cliUsage : (await import('../../secrets/key-box.js')).generateMasterKey());
    return 0;
  }
  const where = {
    redisUrl: args.flags['redis-url'] ?? process.env.REDIS_URL,
    redisPrefix: args.flags['redis-prefix'] ?? process.env.QE_REDIS_PREFIX ?? '',
    sqlitePath: args.flags['sqlite-path'] ?? process.env.QE_SQLITE_PATH ?? 'data/quant-engine.db',
  };
  // Opening a SQLite path creates the file: a mistyped path would get a fresh, empty log holding our command,
  // which no engine reads. Only the engine creates its database.
  const clusterUrls = (args.flags['cluster-urls'] ?? process.env.QE_REDIS_CLUSTER_URLS ?? '').split(',').filter((u) => u.trim().length > 0);
  if (clusterUrls.length > 0) return runOnCluster(action, args.flags, clusterUrls, where.redisPrefix, io, timeoutMs);
  if (!where.redisUrl && !existsSync(where.sqlitePath)) {
    io.err(`no engine database at ${where.sqlitePath}; is npm start running here? (or pass --sqlite-path / --redis-url)`);
    return 2;
  }
  const log = await openLog(where);
  let keyStore: { close(): Promise<void> } | null = null;
  const vault = async (): Promise<KeyVault> => {
    const [{ openKeyStore }, { keyVaultFromEnv }] = await Promise.all([import('../../secrets/key-store.js'), import('../../secrets/key-vault.js')]);
    const store = await openKeyStore(where);
    keyStore = store;
    return keyVaultFromEnv(store);
  };
  try {
    await log.init();
    return await runCliAction(action, log, io, timeoutMs, vault);
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    await log.close();
    await (keyStore as { close(): Promise<void> } | null)?.close();
  }
}

/** The CLI against a partitioned log on a Redis Cluster (issue 13): commands routed, inspection of one partition. */
async function runOnCluster(
  action: CliAction,
  flags: Record<string, string>,
  clusterUrls: string[],
  prefix: string,
  io: CliIo,
  timeoutMs: number,
): Promise<number> {
  let partitionCount: number;
  let partition: number;
  try {
    partitionCount = wholeAtLeastOne(flags['partitions'] ?? process.env.QE_PARTITIONS ?? '1', '--partitions');
    partition = Number(flags['partition'] ?? 0);
    if (!(Number.isInteger(partition) && partition >= 0 && partition < partitionCount))
      throw new CliUsageError(`--partition must be a whole number in 0..${partitionCount - 1}, got ${flags['partition']}`);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    io.err(error.message);
    return 2;
  }
  if (action.kind === 'cluster') return printClusterStatus(action.json, clusterUrls, prefix, partitionCount, io);
  const { openPartitionLogs } = await import('../../log/partition-logs.js');
  const partitions = openPartitionLogs({ clusterUrls, prefix, partitionCount });
  try {
    return await runCliAction(action, await partitions.log(partition), io, timeoutMs, noVault, partitions);
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    await partitions.close();
  }
}

/** `cli cluster`: one row per partition (a table, or one JSON object per line with --json). */
async function printClusterStatus(json: boolean, clusterUrls: string[], prefix: string, partitionCount: number, io: CliIo): Promise<number> {
  const [{ connectRedis }, { readClusterStatus }, { clusterTable }] = await Promise.all([
    import('../../log/redis-connection.js'),
    import('../../cluster/cluster-status.js'),
    import('./cluster-format.js'),
  ]);
  const conn = await connectRedis({ clusterUrls });
  try {
    const rows = await readClusterStatus(conn, prefix, partitionCount);
    if (json) for (const row of rows) io.out(JSON.stringify(row));
    else for (const line of clusterTable(rows)) io.out(line);
    return 0;
  } catch (error) {
    io.err(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    conn.destroy();
  }
}
