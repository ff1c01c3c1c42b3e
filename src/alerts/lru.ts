/**
 * A bounded map for rule state on the ingest hot path, with the two-generation scheme of hashlru
 * (github.com/dominictarr/hashlru): writes go to the current generation; when it is full it becomes the
 * old one and the previous old generation is dropped whole; a read that finds a key in the old generation
 * moves it back to the current one. Every operation is O(1) and never iterates a Map. (The CLOCK scheme
 * used before iterated from the front of a Map after deletes, which V8 answers by skipping every deleted
 * slot: a third of the rules' time under a brute-force storm.) At most `max` entries are held; between
 * max/2 and max survive a rotation, the recently used ones. Values must not be `undefined` (it means
 * "absent", which saves a second lookup per miss).
 */
export interface LruMap<K, V> {
  get(k: K): V | undefined;
  set(k: K, v: V): void;
  delete(k: K): void;
  readonly size: number;
  values(): IterableIterator<V>;
}

export function lruMap<K, V>(max: number): LruMap<K, V> {
  const generation = Math.max(1, Math.ceil(max / 2));
  let cur = new Map<K, V>();
  let old = new Map<K, V>();
  const put = (k: K, v: V) => {
    if (cur.size >= generation) {
      old = cur;
      cur = new Map();
    }
    cur.set(k, v);
  };
  return {
    get(k) {
      const v = cur.get(k);
      if (v !== undefined) return v;
      if (old.size === 0) return undefined;
      const o = old.get(k);
      if (o === undefined) return undefined;
      old.delete(k);
      put(k, o);
      return o;
    },
    set(k, v) {
      if (cur.has(k)) {
        cur.set(k, v);
        return;
      }
      old.delete(k);
      put(k, v);
    },
    delete(k) {
      cur.delete(k);
      old.delete(k);
    },
    get size() {
      return cur.size + old.size;
    },
    *values() {
      yield* old.values();
      yield* cur.values();
    },
  };
}
