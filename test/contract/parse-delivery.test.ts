import { describe, expect, it } from 'vitest';
import { parseCommand, parseDelivery } from '../../src/contract/commands.js';

// A command is parsed once per delivery (the gate, the account preflight and the core share the parse), and the
// byte limit is checked without encoding a payload that cannot exceed it.

const stop = JSON.stringify({ id: 'c1', userId: 'u1', type: 'session.stop' });

describe('parseDelivery', () => {
  it('parses a delivery once and shares the result, parsed again only under another limit', () => {
    const delivery = { entryId: '1-0', raw: stop, deliveryCount: 1 };
    const first = parseDelivery(delivery, 4_096);
    expect(first.ok).toBe(true);
    expect(parseDelivery(delivery, 4_096)).toBe(first);
    const tight = parseDelivery(delivery, 10);
    expect(tight).not.toBe(first);
    expect(tight).toMatchObject({ ok: false, reason: `command is ${stop.length} bytes; the limit is 10` });
    // Another delivery of the same text is its own parse (equal, not shared).
    const again: { raw: string; entryId: string } = { ...delivery, entryId: '2-0' };
    expect(parseDelivery(again, 4_096)).toEqual(first);
  });

  it('counts UTF-8 bytes, not characters, against the limit', () => {
    // 40 characters of 2 bytes each: 80 + the JSON around them.
    const raw = JSON.stringify({ id: 'c1', userId: 'u1', type: 'session.halt_all', reason: 'ü'.repeat(40) });
    const bytes = new TextEncoder().encode(raw).length;
    expect(raw.length).toBeLessThan(bytes);
    expect(parseCommand(raw, bytes - 1)).toMatchObject({ ok: false, reason: `command is ${bytes} bytes; the limit is ${bytes - 1}` });
    expect(parseCommand(raw, raw.length)).toMatchObject({ ok: false, reason: `command is ${bytes} bytes; the limit is ${raw.length}` });
    expect(parseCommand(raw, bytes).ok).not.toBe(undefined);
    expect(parseCommand(raw, bytes)).not.toMatchObject({ reason: expect.stringContaining('bytes') as unknown });
  });
});
