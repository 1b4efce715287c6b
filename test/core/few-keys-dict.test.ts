import { describe, expect, it } from 'vitest';
import { dictGet, dictWith, emptyDict, fewKeysDictFrom, fewKeysDictWith, fewKeysDictWithout, fewKeysEmptyDict } from '../../src/core/dict.js';

// A venue's quotes are copied at every tick with fewKeysDictWith (a fast object with an empty frozen prototype, not a
// prototype-free hash table). It must stay a Dict: keys from outside are ordinary own properties, names of Object's
// prototype read as missing, and the dict it was made from is untouched.

describe('fewKeysDictWith', () => {
  it('reads, writes and enumerates like dictWith, prototype names included', () => {
    const start = dictWith(emptyDict<number>(), 'ETHUSDT', 1);
    const few = fewKeysDictWith(fewKeysDictWith(start, 'BTCUSDT', 2), 'ETHUSDT', 3);
    expect(Object.keys(few)).toEqual(['ETHUSDT', 'BTCUSDT']);
    expect({ ...few }).toEqual({ ETHUSDT: 3, BTCUSDT: 2 });
    expect(Object.keys(start)).toEqual(['ETHUSDT']);
    expect(dictGet(start, 'ETHUSDT')).toBe(1);
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      expect(dictGet(few, name)).toBeUndefined();
      expect((few as Record<string, unknown>)[name]).toBeUndefined();
      expect(name in few).toBe(false);
    }
    // "__proto__" from outside is a key like any other, never a prototype change.
    const odd = fewKeysDictWith(few, '__proto__', 4);
    expect(dictGet(odd, '__proto__')).toBe(4);
    expect(Object.keys(odd)).toEqual(['ETHUSDT', 'BTCUSDT', '__proto__']);
    expect(Object.getPrototypeOf(Object.getPrototypeOf(odd))).toBeNull();
    expect(JSON.parse(JSON.stringify(few))).toEqual({ ETHUSDT: 3, BTCUSDT: 2 });
  });

  it('starts empty, reads back from parsed JSON and drops keys as a Dict does, "__proto__" included', () => {
    const empty = fewKeysEmptyDict<number>();
    expect(Object.keys(empty)).toEqual([]);
    expect([dictGet(empty, 'constructor'), (empty as Record<string, unknown>).toString, 'valueOf' in empty]).toEqual([undefined, undefined, false]);
    // JSON.parse makes "__proto__" an own key: it stays one, never the prototype.
    const parsed = JSON.parse('{"BTCUSDT":1,"__proto__":2}') as Record<string, number>;
    const back = fewKeysDictFrom(parsed);
    expect(Object.keys(back)).toEqual(['BTCUSDT', '__proto__']);
    expect(dictGet(back, '__proto__')).toBe(2);
    expect(Object.getPrototypeOf(Object.getPrototypeOf(back))).toBeNull();
    const without = fewKeysDictWithout(back, '__proto__');
    expect(Object.keys(without)).toEqual(['BTCUSDT']);
    expect(dictGet(without, '__proto__')).toBeUndefined();
    expect(Object.keys(back)).toEqual(['BTCUSDT', '__proto__']); // untouched
    expect(fewKeysDictWithout(without, 'ETHUSDT')).toBe(without); // nothing to drop: the same dict
  });
});
