import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDelivery } from '../../src/contract/commands.js';
import { controlFirst } from '../../src/core/command-priority.js';
import type { Input } from '../../src/core/decide.js';
import { defaultCoreConfig } from '../../src/core/config.js';

// Control first reads each command's sender and type. The service's command gate has parsed every delivery already
// (parseDelivery, once per delivery): reading them again with JSON.parse cost a route to 1 000 users (~10 KB) one more
// parse for every batch it came with. A delivery already parsed is not parsed again; the order is the same.

const command = (entryId: string, body: object): Input => ({ kind: 'command', delivery: { entryId, raw: JSON.stringify(body), deliveryCount: 1 } });

describe('control first on parsed deliveries', () => {
  afterEach(() => vi.restoreAllMocks());

  it('puts the stop first without parsing any command again', () => {
    const userIds = Array.from({ length: 1_000 }, (_, i) => `u${i}`);
    const batch = [
      command('1-1', { id: 'r1', userId: 'signals', type: 'signals.route', userIds, signals: [{ symbol: 'BTCUSDT', weight: 0.1 }] }),
      command('1-2', { id: 's1', userId: 'u7', type: 'session.stop' }),
      command('1-3', { id: 't1', userId: 'u8', type: 'status' }),
    ];
    for (const input of batch) if (input.kind === 'command') expect(parseDelivery(input.delivery, defaultCoreConfig.maxCommandBytes).ok).toBe(true);
    const parse = vi.spyOn(JSON, 'parse');
    const ordered = controlFirst(batch);
    expect(parse).not.toHaveBeenCalled();
    expect(ordered.map((i) => (i.kind === 'command' ? i.delivery.entryId : i.kind))).toEqual(['1-2', '1-1', '1-3']);
  });
});
