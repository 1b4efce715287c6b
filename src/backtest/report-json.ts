import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

// A value written to a file as `JSON.stringify(value, null, 2)` writes it, byte for byte, without ever holding that
// text as one string. A backtest's report holds every trade, ledger entry and order (~2 KB of JSON a trade): a run of
// ~260 000 trades makes more JSON than V8's longest string (2^29 − 24 characters, ~512 MB), and made in one piece it
// threw a RangeError at the end of the run, the whole run lost. Here the outer levels (the report and its lists)
// are written piece by piece, and each value below them (a trade, an entry) is one JSON.stringify.

/** Text gathered before it is handed to the file (characters): large writes, and few of them. */
export const jsonWriteChunkChars = 1 << 16;
/** Levels of objects and arrays written piece by piece (the report, its lists); a value below is one JSON.stringify. */
const piecewiseLevels = 2;
/** One level of indentation, as JSON.stringify's `space` of 2. */
const gap = '  ';

/** Where the pieces go, in order. */
export type JsonSink = (piece: string) => Promise<void> | void;

/** A plain array or object, written piece by piece at the outer levels (anything else is JSON.stringify's alone). */
function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return Array.isArray(value) || proto === Object.prototype || proto === null;
}

/** As JSON.stringify's SerializeJSONProperty: a value's own toJSON is asked first, with its key. */
function jsonValueOf(value: unknown, key: string): unknown {
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return (toJSON as (key: string) => unknown).call(value, key);
  }
  return value;
}

/**
 * The JSON text of `value` at `indent` (undefined where JSON.stringify gives none: undefined, a function, a symbol).
 * A container of the outer levels goes to `emit` in pieces and returns '' once written.
 */
async function writeValue(value: unknown, indent: string, level: number, emit: (text: string) => Promise<void>): Promise<string | undefined> {
  if (level >= piecewiseLevels || !isContainer(value)) {
    const text = JSON.stringify(value, null, gap);
    // A nested value's lines carry the indentation of where it sits (a string's newlines are escaped: \n).
    return text === undefined || indent === '' ? text : text.replaceAll('\n', `\n${indent}`);
  }
  const inner = indent + gap;
  let first = true;
  const open = Array.isArray(value) ? '[' : '{';
  const close = Array.isArray(value) ? ']' : '}';
  const member = async (prefix: string, member: unknown, key: string): Promise<boolean> => {
    const shown = jsonValueOf(member, key);
    // Measured before anything is written: an object member JSON would leave out is left out, prefix and all.
    if (!Array.isArray(value) && (shown === undefined || typeof shown === 'function' || typeof shown === 'symbol')) return false;
    await emit(`${first ? `${open}\n` : ',\n'}${inner}${prefix}`);
    first = false;
    const text = await writeValue(shown, inner, level + 1, emit);
    // In an array, what JSON leaves out of an object is null.
    await emit(text ?? 'null');
    return true;
  };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) await member('', value[i], String(i));
  } else {
    for (const key of Object.keys(value)) await member(`${JSON.stringify(key)}: `, value[key], key);
  }
  await emit(first ? `${open}${close}` : `\n${indent}${close}`);
  return '';
}

/** `JSON.stringify(value, null, 2)` to `sink`, in pieces of about jsonWriteChunkChars; `value` is the root. */
export async function writeJson(value: unknown, sink: JsonSink): Promise<void> {
  let pending = '';
  const emit = async (text: string): Promise<void> => {
    pending += text;
    if (pending.length >= jsonWriteChunkChars) {
      const piece = pending;
      pending = '';
      await sink(piece);
    }
  };
  const text = await writeValue(jsonValueOf(value, ''), '', 0, emit);
  if (text === undefined) throw new Error('no JSON for this value (undefined, a function or a symbol)');
  pending += text;
  if (pending.length > 0) await sink(pending);
}

/** `JSON.stringify(value, null, 2)` and a newline to the file at `path`, written as it is made. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const file = createWriteStream(path);
  const failed = once(file, 'error').then(([error]) => {
    throw error;
  });
  failed.catch(() => undefined);
  try {
    await writeJson(value, async (piece) => {
      if (!file.write(piece)) await Promise.race([once(file, 'drain'), failed]);
    });
    file.end('\n');
    await Promise.race([once(file, 'finish'), failed]);
  } catch (error) {
    file.destroy();
    throw error;
  }
}
