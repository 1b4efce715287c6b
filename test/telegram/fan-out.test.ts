import { describe, expect, it } from 'vitest';
import { createFanOutGate } from '../../src/services/telegram/fan-out.js';

// The gate the partitions' relays share (fan-out.ts): one answer to a fan-out once every partition has answered.
// A relay asks again for an entry whose send failed (Telegram down, a 429): that retry must still speak.

const halt = (status: string) => ({ commandId: 'halt-1', commandType: 'admin.halt_all', status });

describe('the fan-out gate', () => {
  it('answers once, after every partition, with a refusal if any refused; a failed send of that answer is sent on its retry', () => {
    const gate = createFanOutGate(2);
    expect(gate.admit(halt('done'), 0, 'halted')).toEqual({ send: false });
    expect(gate.admit(halt('done'), 0, 'halted')).toEqual({ send: false }); // partition 0's entry retried: still one answer
    expect(gate.admit(halt('rejected'), 1, 'refused')).toEqual({ send: true, text: 'refused' });
    // Partition 1's relay could not send it and reads the entry again.
    expect(gate.admit(halt('rejected'), 1, 'refused')).toEqual({ send: true, text: 'refused' });
    expect(gate.admit(halt('done'), 0, 'halted')).toEqual({ send: false });
  });

  it('lets one partition’s "accepted" out, again on that partition’s retry', () => {
    const gate = createFanOutGate(2);
    expect(gate.admit(halt('accepted'), 1, 'accepted')).toEqual({ send: true, text: 'accepted' });
    expect(gate.admit(halt('accepted'), 0, 'accepted')).toEqual({ send: false });
    expect(gate.admit(halt('accepted'), 1, 'accepted')).toEqual({ send: true, text: 'accepted' });
  });

  it('passes what is not a fan-out, and everything with one partition', () => {
    expect(createFanOutGate(2).admit({ commandId: 's', commandType: 'status', status: 'done' }, 0, 'status')).toEqual({ send: true, text: 'status' });
    expect(createFanOutGate(1).admit(halt('done'), 0, 'halted')).toEqual({ send: true, text: 'halted' });
  });
});
