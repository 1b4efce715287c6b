import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

// Exchange keys at rest: AES-256-GCM under a master key that never leaves the process (QE_MASTER_KEY, base64
// of 32 bytes, or a key file). Each sealed value names the key it was sealed with (a fingerprint, not the key),
// so keys can be rotated: open with the old, seal with the new. GCM's tag makes any tampering an error.

const sealedSchema = z.object({ v: z.literal(1), kid: z.string(), iv: z.string(), tag: z.string(), ct: z.string() });
export type Sealed = z.infer<typeof sealedSchema>;

export interface MasterKey {
  /** Fingerprint of the key: safe to store and log. */
  id: string;
  bytes: Buffer;
}

export function masterKeyFrom(base64: string): MasterKey {
  const bytes = Buffer.from(base64.trim(), 'base64');
  if (bytes.length !== 32) throw new Error(`master key must be 32 bytes of base64, got ${bytes.length} bytes`);
  return { id: createHash('sha256').update(bytes).digest('hex').slice(0, 16), bytes };
}

/** QE_MASTER_KEY, else the file named by QE_MASTER_KEY_FILE; null when neither is set. */
export function masterKeyFromEnv(env: NodeJS.ProcessEnv = process.env): MasterKey | null {
  if (env.QE_MASTER_KEY) return masterKeyFrom(env.QE_MASTER_KEY);
  if (env.QE_MASTER_KEY_FILE) return masterKeyFrom(readFileSync(env.QE_MASTER_KEY_FILE, 'utf8'));
  return null;
}

export function generateMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/** Seals `plaintext`; `context` (e.g. the user id) is authenticated too, so a blob cannot be moved to another user. */
export function seal(key: MasterKey, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const sealed: Sealed = { v: 1, kid: key.id, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
  return JSON.stringify(sealed);
}

export function open(keys: readonly MasterKey[], blob: string, context: string): string {
  const sealed = sealedSchema.parse(JSON.parse(blob));
  const key = keys.find((k) => k.id === sealed.kid);
  if (!key) throw new Error(`sealed with key ${sealed.kid}, which is not loaded`);
  const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]).toString('utf8');
}

/** Re-seals a blob under `next` (key rotation); fails loudly if the blob does not open. */
export function reseal(keys: readonly MasterKey[], next: MasterKey, blob: string, context: string): string {
  return seal(next, open(keys, blob, context), context);
}
