// String-keyed records without a prototype. Keys come from outside (user ids, symbols, order ids): in a plain
// object, `sessions['constructor']` is Object's constructor and `x['__proto__'] = v` replaces the prototype,
// so one command with userId "toString" crashed the engine. A Dict has no prototype, so a missing key is
// always `undefined` and every key is an ordinary own property. Dicts are immutable: writes return a copy.

declare const dictBrand: unique symbol;

/** An immutable string-keyed record with a null prototype; build it only with the functions below. */
export type Dict<V> = Readonly<Record<string, V>> & { readonly [dictBrand]: true };

function blank<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/**
 * A writable copy of a record. One assignment a key over Object.keys: V8's Object.assign takes a generic path for
 * a large prototype-free source (dictionary mode), 2–4× slower at 1 000–10 000 keys. Keys enumerate in the same
 * order as in the source.
 */
function copyOf<V>(dict: Readonly<Record<string, V>>): Record<string, V> {
  return copyInto(blank<V>(), dict);
}

/** `dict`'s entries written into `out` (copyOf's loop, for a copy of another kind: fewKeysDictWith). */
function copyInto<V>(out: Record<string, V>, dict: Readonly<Record<string, V>>): Record<string, V> {
  const keys = Object.keys(dict);
  for (let i = 0; i < keys.length; i += 1) {
    const key = keys[i] as string;
    out[key] = dict[key] as V;
  }
  return out;
}

export function emptyDict<V>(): Dict<V> {
  return blank<V>() as Dict<V>;
}

/** A Dict holding the own enumerable entries of `source` (a parsed snapshot, a plain object, entries). */
export function dictFrom<V>(source: Readonly<Record<string, V>> | Iterable<readonly [string, V]>): Dict<V> {
  const out = blank<V>();
  const entries = Symbol.iterator in source ? (source as Iterable<readonly [string, V]>) : Object.entries(source as Readonly<Record<string, V>>);
  for (const [key, value] of entries) out[key] = value;
  return out as Dict<V>;
}

/** Own-property lookup that is safe for any Dict or plain record (prototype names give undefined). */
export function dictGet<V>(dict: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(dict, key) ? dict[key] : undefined;
}

export function dictWith<V>(dict: Dict<V>, key: string, value: V): Dict<V> {
  const out = copyOf(dict);
  out[key] = value;
  return out as Dict<V>;
}

/**
 * The prototype of fewKeysDictWith's copies: itself without a prototype and frozen, so a key like "constructor" or
 * "__proto__" is still an ordinary own property and a missing one still reads undefined.
 */
const fewKeysDictPrototype: object = Object.freeze(Object.create(null) as object);

/**
 * dictWith for a dict whose keys are few and drawn from a small fixed set (a venue's quotes, one a traded symbol),
 * written at every tick. A prototype-free object is a V8 hash table from birth: copying one with a key or three cost
 * ~100 ns, a tenth of a backtest quote's engine work. The copy here has the empty frozen prototype above instead, so
 * V8 keeps it a fast object with hidden classes shared by every copy (~35 ns). Only for few, recurring keys: each
 * distinct sequence of keys makes V8 hidden classes, which user ids or order ids would multiply without end.
 */
export function fewKeysDictWith<V>(dict: Dict<V>, key: string, value: V): Dict<V> {
  const out = copyInto(fewKeysBlank<V>(), dict);
  out[key] = value;
  return out as Dict<V>;
}

function fewKeysBlank<V>(): Record<string, V> {
  return Object.create(fewKeysDictPrototype) as Record<string, V>;
}

/**
 * An empty dict of fewKeysDictWith's kind: a session's records by symbol (positions, intents, protective stops) start
 * as one, so every copy of them stays a fast object. As a prototype-free one they were hash tables that every
 * `for…in`, Object.keys and copy walked the slow way: asking whether a session holds a position (holdsPosition, at
 * every stop check and equity sample) was 1 % of a backtest by itself.
 */
export function fewKeysEmptyDict<V>(): Dict<V> {
  return fewKeysBlank<V>() as Dict<V>;
}

/** dictFrom into a dict of fewKeysDictWith's kind (a session's records by symbol, read back from a snapshot). */
export function fewKeysDictFrom<V>(source: Readonly<Record<string, V>>): Dict<V> {
  return copyInto(fewKeysBlank<V>(), source) as Dict<V>;
}

/** dictMerge for a dict of fewKeysDictWith's kind: the copy stays of that kind. */
export function fewKeysDictMerge<V>(dict: Dict<V>, more: Readonly<Record<string, V>>): Dict<V> {
  return copyInto(copyInto(fewKeysBlank<V>(), dict), more) as Dict<V>;
}

/** dictWithout for a dict of fewKeysDictWith's kind: the copy stays of that kind. */
export function fewKeysDictWithout<V>(dict: Dict<V>, key: string): Dict<V> {
  if (!Object.hasOwn(dict, key)) return dict;
  const out = copyInto(fewKeysBlank<V>(), dict);
  delete out[key];
  return out as Dict<V>;
}

export function dictMerge<V>(dict: Dict<V>, more: Readonly<Record<string, V>>): Dict<V> {
  return copyInto(copyOf(dict), more) as Dict<V>;
}

export function dictWithout<V>(dict: Dict<V>, ...keys: readonly string[]): Dict<V> {
  if (!keys.some((key) => Object.hasOwn(dict, key))) return dict;
  const out = copyOf(dict);
  for (const key of keys) delete out[key];
  return out as Dict<V>;
}

/**
 * What a fold owns: made by it during one decision (or one replay) and seen by nobody else yet, so it may write it in
 * place (the state's big maps, shared-dict.ts, and the terminal order list, events.ts). The first write to something
 * it does not own copies it once and owns the copy; later writes in the same decision are O(1). Everything handed out
 * before (the state a decision started from) is never written.
 */
export type OwnedDicts = WeakSet<object>;

export function ownedDicts(): OwnedDicts {
  return new WeakSet();
}
