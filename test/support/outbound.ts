import type { OutboundEvent } from '../../src/core/outputs.js';
import type { EngineLog } from '../../src/log/port.js';

/** Every outbound event committed so far, oldest first (reads the stream without a consumer group). */
export async function allOutbound(log: EngineLog): Promise<OutboundEvent[]> {
  const events: OutboundEvent[] = [];
  let after = '0';
  for (;;) {
    const batch = await log.tailOutbound(after, 1000, 1);
    if (batch.length === 0) return events;
    for (const record of batch) events.push(JSON.parse(record.data) as OutboundEvent);
    after = batch[batch.length - 1]?.id ?? after;
  }
}

export async function repliesFor(log: EngineLog, commandId: string): Promise<Extract<OutboundEvent, { type: 'reply' }>[]> {
  return (await allOutbound(log)).filter((e): e is Extract<OutboundEvent, { type: 'reply' }> => e.type === 'reply' && e.commandId === commandId);
}
