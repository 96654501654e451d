// How the event log keeps its events: packed into 32-bit words, not as objects. A run of the
// scale scenario logs about a million events; as objects they took 93 MB of its heap (and the
// garbage collector's time walking them), packed about a third of that.
//
// An event is its shape, then its fields' values, one or two words each. A shape is what the
// event's type and the kinds of its fields make together (a `fault` whose cb is null and one
// whose cb is a number have two shapes); it is found once, when the first event of that shape
// is recorded, so that a kind of event added to KEvent needs nothing here. Strings are kept
// once each and named by number. Reading an event makes its object again.

/** How a field's value is kept: an int32 in one word, any other number in two, a string by
 *  its number, and the rest (null, booleans, lists of strings, anything else) as listed. */
const enum Kind { Int, Double, Str, Null, True, False, StrList, Other }

interface Shape {
  type: string;
  keys: string[];
  kinds: Kind[];
  /** words of an event of this shape, the shape's own included */
  words: number;
  /** the word holding `devid` when it is an int32 (-1 otherwise): the device index reads it
   *  without making the event */
  devid_word: number;
}

/** Words per chunk: events never straddle two, and the store grows a chunk at a time (no copy
 *  of all that came before, and no moment with the old and the new array both alive). */
const CHUNK = 1 << 16;

/** A list of int32 kept in chunks. */
class Words {
  private chunks: Int32Array[] = [];
  length = 0;
  push(x: number): void {
    const c = this.length >>> 16;
    if (c === this.chunks.length) this.chunks.push(new Int32Array(CHUNK));
    this.chunks[c]![this.length & (CHUNK - 1)] = x;
    this.length++;
  }
  get(i: number): number {
    return this.chunks[i >>> 16]![i & (CHUNK - 1)]!;
  }
  /** Forget the words from `n` on (their chunks stay, to be written again). */
  truncate(n: number): void {
    this.length = Math.min(this.length, n);
  }
  /** Room for `n` consecutive words in one chunk: pad to the next chunk when needed. */
  reserve(n: number): void {
    if ((this.length & (CHUNK - 1)) + n > CHUNK) this.length = (this.length >>> 16) * CHUNK + CHUNK;
  }
}

const f64 = new Float64Array(1);
const i32 = new Int32Array(f64.buffer);

function kind_of(v: unknown): Kind {
  if (typeof v === 'number') return (v | 0) === v && !Object.is(v, -0) ? Kind.Int : Kind.Double;
  if (typeof v === 'string') return Kind.Str;
  if (v === null) return Kind.Null;
  if (v === true) return Kind.True;
  if (v === false) return Kind.False;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return Kind.StrList;
  return Kind.Other;
}

/** Whether an event's fields are, in order, those of the shape and of its kinds. */
function fits(shape: Shape, fields: Record<string, unknown>): boolean {
  let j = 0;
  for (const k in fields) {
    if (k === 'type') continue;
    if (shape.keys[j] !== k || kind_of(fields[k]) !== shape.kinds[j]) return false;
    j++;
  }
  return j === shape.keys.length;
}

/** Words of a value of this kind. */
function width(k: Kind): number {
  return k === Kind.Double ? 2 : k === Kind.Null || k === Kind.True || k === Kind.False ? 0 : 1;
}

export class EventStore<E extends { type: string }> {
  private readonly words = new Words();
  /** per event, its first word */
  private readonly starts = new Words();
  private readonly shapes: Shape[] = [];
  /** per type, the numbers of its shapes */
  private readonly shapes_of_type = new Map<string, number[]>();
  private readonly strings: string[] = [];
  private readonly string_ids = new Map<string, number>();
  /** lists of strings and other values, by number */
  private readonly others: unknown[] = [];

  get length(): number {
    return this.starts.length;
  }

  push(e: E): void {
    const fields = e as unknown as Record<string, unknown>;
    const id = this.shape_of(e.type, fields);
    const shape = this.shapes[id]!;
    this.words.reserve(shape.words);
    this.starts.push(this.words.length);
    this.words.push(id);
    for (let i = 0; i < shape.keys.length; i++) this.put(shape.kinds[i]!, fields[shape.keys[i]!]);
  }

  /** Forget the events from `n` on. */
  truncate(n: number): void {
    if (n >= this.starts.length) return;
    this.words.truncate(this.starts.get(n));
    this.starts.truncate(n);
  }

  /** The type of event `i`, without making it. */
  type_of(i: number): string {
    return this.shapes[this.words.get(this.starts.get(i))]!.type;
  }

  /** The devid of event `i`, or null when it names no device. */
  devid_of(i: number): number | null {
    const at = this.starts.get(i);
    const shape = this.shapes[this.words.get(at)]!;
    return shape.devid_word < 0 ? null : this.words.get(at + shape.devid_word);
  }

  /** Event `i`, made again from its words. */
  get(i: number): E {
    let at = this.starts.get(i);
    const shape = this.shapes[this.words.get(at++)]!;
    const e: Record<string, unknown> = { type: shape.type };
    for (let f = 0; f < shape.keys.length; f++) {
      const k = shape.kinds[f]!;
      e[shape.keys[f]!] = this.value(k, at);
      at += width(k);
    }
    return e as E;
  }

  /** The shape of an event: one of its type's shapes seen before (an event is looked at, not
   *  copied: recording costs no allocation once the shapes are known), or a new one. */
  private shape_of(type: string, fields: Record<string, unknown>): number {
    let ids = this.shapes_of_type.get(type);
    for (let i = 0; ids && i < ids.length; i++) if (fits(this.shapes[ids[i]!]!, fields)) return ids[i]!;
    const keys = Object.keys(fields).filter((k) => k !== 'type');
    const kinds = keys.map((k) => kind_of(fields[k]));
    let words = 1;
    let devid_word = -1;
    for (let f = 0; f < keys.length; f++) {
      if (keys[f] === 'devid' && kinds[f] === Kind.Int) devid_word = words;
      words += width(kinds[f]!);
    }
    const id = this.shapes.length;
    this.shapes.push({ type, keys, kinds, words, devid_word });
    if (!ids) this.shapes_of_type.set(type, ids = []);
    ids.push(id);
    return id;
  }

  private put(k: Kind, v: unknown): void {
    switch (k) {
      case Kind.Int: this.words.push(v as number); return;
      case Kind.Double: f64[0] = v as number; this.words.push(i32[0]!); this.words.push(i32[1]!); return;
      case Kind.Str: this.words.push(this.string_id(v as string)); return;
      case Kind.StrList: case Kind.Other: this.words.push(this.others.length); this.others.push(k === Kind.StrList ? [...(v as string[])] : v); return;
      default: return;
    }
  }

  private value(k: Kind, at: number): unknown {
    switch (k) {
      case Kind.Int: return this.words.get(at);
      case Kind.Double: i32[0] = this.words.get(at); i32[1] = this.words.get(at + 1); return f64[0];
      case Kind.Str: return this.strings[this.words.get(at)];
      case Kind.Null: return null;
      case Kind.True: return true;
      case Kind.False: return false;
      case Kind.StrList: return [...(this.others[this.words.get(at)] as string[])];
      default: return this.others[this.words.get(at)];
    }
  }

  private string_id(s: string): number {
    let id = this.string_ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.string_ids.set(s, id);
    }
    return id;
  }
}

/** A growable list of int32 (an index of the log): a typed array, a quarter larger each time. */
export class IntList {
  private items = new Int32Array(8);
  length = 0;
  push(x: number): void {
    if (this.length === this.items.length) {
      const grown = new Int32Array(this.length + Math.max(8, this.length >> 2));
      grown.set(this.items);
      this.items = grown;
    }
    this.items[this.length++] = x;
  }
  get(i: number): number {
    return this.items[i]!;
  }
}
