import { describe, expect, it } from 'vitest';
import { generateMasterKey, masterKeyFrom, open, reseal, seal } from '../../src/secrets/key-box.js';

describe('exchange keys at rest (AES-256-GCM)', () => {
  const key = masterKeyFrom(generateMasterKey());
  const secret = 'binance-api-secret-EXAMPLE-0123456789';

  it('round-trips, and the stored blob never contains the secret', () => {
    const blob = seal(key, secret, 'user-1');
    expect(blob).not.toContain(secret);
    expect(blob).not.toContain(Buffer.from(secret).toString('base64'));
    expect(open([key], blob, 'user-1')).toBe(secret);
    expect(seal(key, secret, 'user-1')).not.toBe(blob); // fresh IV every time
  });

  it('refuses a tampered blob, another user, or the wrong key', () => {
    const blob = seal(key, secret, 'user-1');
    const parsed = JSON.parse(blob) as { ct: string };
    const flipped = Buffer.from(parsed.ct, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => open([key], JSON.stringify({ ...parsed, ct: flipped.toString('base64') }), 'user-1')).toThrow();
    expect(() => open([key], blob, 'user-2')).toThrow();
    expect(() => open([masterKeyFrom(generateMasterKey())], blob, 'user-1')).toThrow(/not loaded/);
  });

  it('rotates: a blob resealed under the new key opens with it alone', () => {
    const next = masterKeyFrom(generateMasterKey());
    const old = seal(key, secret, 'user-1');
    const rotated = reseal([key], next, old, 'user-1');
    expect(open([next], rotated, 'user-1')).toBe(secret);
    expect(() => open([key], rotated, 'user-1')).toThrow(/not loaded/);
  });

  it('rejects a master key of the wrong size', () => {
    expect(() => masterKeyFrom(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
  });
});
