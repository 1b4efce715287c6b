import type { OutboundEvent } from '../contract/outbound.js';
import { parseOutboundEvent } from '../contract/outbound.js';
import type { EngineLog } from '../log/port.js';
import type { Logger } from '../util/logger.js';

// Prints replies and alerts from the outbound stream: what `npm start` shows a first-time user.

/** How often `npm start` prints its one-line summary of the open sessions (instead of a line per signal). */
export const consoleSummaryEveryMs = 60_000;

/**
 * One line per reply or alert; null for equity samples (they feed the dashboard's curves and the periodic summary)
 * and for routine signal routes (every few seconds; a refused one is still shown).
 */
export function describeOutbound(event: OutboundEvent): string | null {
  if (event.type === 'equity') return null;
  if (event.type === 'reply' && event.commandType === 'signals.route' && event.status !== 'rejected') return null;
  if (event.type === 'alert') return `[alert ${event.kind}] ${event.userId}: ${event.message}`;
  const why = event.reason ? `: ${event.reason}` : '';
  return `[${event.status}] ${event.commandType ?? 'command'} ${event.commandId} (${event.userId ?? '?'})${why}`;
}

type EquitySummary = Extract<OutboundEvent, { type: 'equity' }>['summary'];

const usd = (value: number): string => `$${value.toFixed(2)}`;
const signedUsd = (value: number): string => `${value < 0 ? '-' : '+'}$${Math.abs(value).toFixed(2)}`;

/** The periodic line: open sessions and their sums, from each session's latest equity sample; null when none is open. */
export function describeSessions(latest: ReadonlyMap<string, EquitySummary>): string | null {
  const open = [...latest.values()].filter((s) => s.status !== 'closed');
  if (open.length === 0) return null;
  const sum = (pick: (s: EquitySummary) => number): number => open.reduce((total, s) => total + pick(s), 0);
  return (
    `summary: ${open.length} open session${open.length === 1 ? '' : 's'}, equity ${usd(sum((s) => s.equityUsd))} ` +
    `(capital ${usd(sum((s) => s.capitalUsd))}, realized ${signedUsd(sum((s) => s.realizedPnlUsd))}, ` +
    `unrealized ${signedUsd(sum((s) => s.unrealizedPnlUsd))}, fees ${usd(sum((s) => s.feesUsd ?? 0))}, funding ${signedUsd(sum((s) => s.fundingUsd ?? 0))})`
  );
}

export function startConsolePrinter(
  log: EngineLog,
  group: string,
  logger: Logger,
  write: (line: string) => void,
  summaryEveryMs = consoleSummaryEveryMs,
): { stop(): Promise<void> } {
  let stopped = false;
  // One entry per session seen (closed ones dropped): bounded by the number of sessions.
  const latest = new Map<string, EquitySummary>();
  const summaryTimer = setInterval(() => {
    const line = describeSessions(latest);
    if (line !== null) write(line);
  }, summaryEveryMs);
  summaryTimer.unref();
  const loop = (async () => {
    await log.initOutboundGroup(group);
    while (!stopped) {
      try {
        const records = await log.readOutbound(group, 'console-1', 100, 500);
        for (const record of records) {
          const parsed = parseOutboundEvent(record.data);
          if (!parsed.ok) {
            logger.warn({ entryId: record.id, reason: parsed.reason }, 'outbound entry skipped');
            continue;
          }
          const event = parsed.event;
          if (event.type === 'equity') {
            if (event.summary.status === 'closed') latest.delete(event.userId);
            else latest.set(event.userId, event.summary);
          }
          const line = describeOutbound(event);
          if (line !== null) write(line);
        }
        if (records.length > 0)
          await log.ackOutbound(
            group,
            records.map((r) => r.id),
          );
      } catch (error) {
        if (!stopped) logger.error({ err: error }, 'outbound read failed');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      clearInterval(summaryTimer);
      await loop;
    },
  };
}
