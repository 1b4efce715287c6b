import type { OutboundEvent } from '../../src/contract/outbound.js';
import { parseOutboundEvent } from '../../src/contract/outbound.js';
import type { EngineLog } from '../../src/log/port.js';

/**
 * Every outbound event committed so far, oldest first (reads the stream without a consumer group). Each is
 * read through the contract, and one that does not match it fails the test: what the engine publishes is
 * exactly what every reader accepts.
 */
export async function allOutbound(log: EngineLog): Promise<OutboundEvent[]> {
  const events: OutboundEvent[] = [];
  let after = '0';
  for (;;) {
    const batch = await log.tailOutbound(after, 1000, 1);
    if (batch.length === 0) return events;
    for (const record of batch) {
      const parsed = parseOutboundEvent(record.data);
      if (!parsed.ok) throw new Error(`outbound entry ${record.id} does not match the contract: ${parsed.reason}`);
      events.push(parsed.event);
    }
    after = batch[batch.length - 1]?.id ?? after;
  }
}

export async function repliesFor(log: EngineLog, commandId: string): Promise<Extract<OutboundEvent, { type: 'reply' }>[]> {
  return (await allOutbound(log)).filter((e): e is Extract<OutboundEvent, { type: 'reply' }> => e.type === 'reply' && e.commandId === commandId);
}
