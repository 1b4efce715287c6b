import type { OutboundEvent } from '../contract/outbound.js';
import { parseOutboundEvent } from '../contract/outbound.js';
import type { EngineLog } from '../log/port.js';
import type { Logger } from '../util/logger.js';

// Prints replies and alerts from the outbound stream: what `npm start` shows a first-time user.

/** One line per reply or alert; null for equity samples (they feed the dashboard's curves, not the console). */
export function describeOutbound(event: OutboundEvent): string | null {
  if (event.type === 'equity') return null;
  if (event.type === 'alert') return `[alert ${event.kind}] ${event.userId}: ${event.message}`;
  const why = event.reason ? `: ${event.reason}` : '';
  return `[${event.status}] ${event.commandType ?? 'command'} ${event.commandId} (${event.userId ?? '?'})${why}`;
}

export function startConsolePrinter(log: EngineLog, group: string, logger: Logger, write: (line: string) => void): { stop(): Promise<void> } {
  let stopped = false;
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
          const line = describeOutbound(parsed.event);
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
      await loop;
    },
  };
}
