/**
 * A reader over the bytes of a JSON text that finds where the resources of a Cinder answer and their
 * members start and end, without building any value. Used to add a few members to a long answer in place
 * of parsing and re-serialising all of it (for a 1,000-volume detail list that was most of the rewrite's
 * time). One flat loop over the bytes: a call per member cost twice the whole scan.
 *
 * It checks the grammar between tokens (brackets, colons, commas, literals) and throws JsonBytesError
 * where it is broken; inside a token it checks no more than where it ends (a control character in a
 * string or a malformed number passes, as bytes it copies unchanged).
 */
export class JsonBytesError extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/** One `"key": value` of an object: byte ranges of the key (without quotes) and of the value. */
export interface Member {
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
}

/** What the scan reports about the resource objects it finds (offsets index the whole text). */
export interface ResourceVisitor {
  /** A resource object opens at `open`. */
  start(open: number): void;
  /**
   * A member of the current resource in `b`, the text read so far (the member object is reused between calls).
   * `key`: the index in `ResourceNames.keys` of the member's key, or READ_THE_KEY when the visitor must read
   * it itself (a key with an escape; every key when no keys were named).
   */
  member(b: Buffer, m: Member, key: number): void;
  /** The current resource's closing brace is at `close`; it had `members` members, the last ending at `lastEnd` (after `{` if none). */
  end(close: number, members: number, lastEnd: number): void;
}

/** Where the resources are: `{"<list>": [ {...}, ... ]}` and `{"<single>": {...}}`. */
export interface ResourceNames {
  list: string;
  single: string;
  /**
   * The member keys the visitor wants (ASCII, no escapes); members with other keys are not reported (their
   * count and end are), except keys with an escape that could stand for one of them. Absent: every member.
   */
  keys?: readonly string[];
}

/** What the top-level object held. */
export interface ScanResult {
  /** Times the list key and the single key appeared (more than once: JSON.parse keeps the last). */
  lists: number;
  singles: number;
}

function fail(at: number, what: string): never {
  throw new JsonBytesError(`${what} at byte ${at}`);
}

// grammar states: what may come next
const VALUE = 0;
const KEY_OR_CLOSE = 1;
const KEY = 2;
const COLON_NEXT = 3;
const COMMA_OR_CLOSE = 4;
const VALUE_OR_CLOSE = 5;
const DONE = 6;

const OBJECT = 1;
const ARRAY = 2;
const TOP_OTHER = 0;
const TOP_LIST = 1;
const TOP_SINGLE = 2;

/** Returned by scalarEnd for a scalar that may go on past the bytes read so far. */
const UNFINISHED = -1;

/** Whether the bytes at `i` spell `word` (ASCII). */
function spells(b: Buffer, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
  return true;
}

function literalEnd(b: Buffer, i: number, word: string, final: boolean): number {
  if (!final && i + word.length > b.length) return UNFINISHED;
  return spells(b, i, word) ? i + word.length : fail(i, 'unknown literal');
}

/** A number, true, false or null starting at `i`: the index after it (UNFINISHED: it reaches the end of a partial text). */
function scalarEnd(b: Buffer, i: number, final: boolean): number {
  const c0 = b[i];
  if (c0 === 0x6e) return literalEnd(b, i, 'null', final);
  if (c0 === 0x74) return literalEnd(b, i, 'true', final);
  if (c0 === 0x66) return literalEnd(b, i, 'false', final);
  let j = i;
  for (; j < b.length; j++) {
    const c = b[j]!;
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45 || c === 0x65)) break;
  }
  if (j === b.length && !final) return UNFINISHED;
  return j === i ? fail(i, 'value expected') : j;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** The index of the first byte at or after `i` that is not a space (0x20: what Cinder puts between tokens). */
function afterSpace(b: Buffer, i: number): number {
  while (b[i] === 0x20) i++;
  return i;
}

/** `key` of a member the visitor must read the key of itself. */
export const READ_THE_KEY = -1;
/** A member not reported. */
const NOT_REPORTED = -2;

/** The keys a scanner looks for, ready for comparing bytes: each key's bytes, and which first bytes any of them can start with. */
interface WantedKeys { bytes: Buffer[]; firstBytes: Uint8Array }

/** Made once per keys list (a scanner is made per answer; its keys are one of a few constant lists). */
const WANTED_KEYS = new WeakMap<readonly string[], WantedKeys>();

function wantedKeys(keys: readonly string[]): WantedKeys {
  let wanted = WANTED_KEYS.get(keys);
  if (wanted === undefined) WANTED_KEYS.set(keys, wanted = makeWantedKeys(keys));
  return wanted;
}

function makeWantedKeys(keys: readonly string[]): WantedKeys {
  const firstBytes = new Uint8Array(256);
  for (const key of keys) firstBytes[key.charCodeAt(0) & 0xff] = 1;
  // a key that stands for one of them may start with an escape
  firstBytes[BACKSLASH] = 1;
  return { bytes: keys.map((k) => Buffer.from(k, 'latin1')), firstBytes };
}

/** How the member whose raw key is [start, end) is reported: the index of its key, READ_THE_KEY or NOT_REPORTED. */
function reportAs(b: Buffer, start: number, end: number, wanted: WantedKeys | undefined): number {
  if (wanted === undefined) return READ_THE_KEY;
  // most keys are passed over on their first byte (an empty key's "first byte" is its closing quote: not wanted)
  if (wanted.firstBytes[b[start]!] !== 1) return NOT_REPORTED;
  const length = end - start;
  let longer = false;
  for (let k = 0; k < wanted.bytes.length; k++) {
    const key = wanted.bytes[k]!;
    if (key.length === length) {
      let same = true;
      for (let j = 0; j < length && same; j++) same = b[start + j] === key[j];
      if (same) return k;
    } else if (length > key.length) {
      longer = true;
    }
  }
  // an escape only makes the raw key longer than the text it stands for
  if (longer) for (let j = start; j < end; j++) if (b[j] === BACKSLASH) return READ_THE_KEY;
  return NOT_REPORTED;
}

/**
 * Reads a JSON text whose top level is an object, fed as it arrives; reports every object in the array
 * under key `names.list` and the object under key `names.single` (each time such a key appears) to the
 * visitor. `feed` reads the whole tokens of the text so far and keeps its place; `finish` reads the end.
 * Both throw JsonBytesError where the text is not JSON (or its top level not an object).
 */
export class ResourceScanner {
  private stack = new Uint8Array(64);
  private depth = 0;
  private state = VALUE;
  private top = TOP_OTHER;
  /** Depth of the resource being reported (0: none): its members are the values at that depth. */
  private resourceDepth = 0;
  private listDepth = 0;
  private containerStart = 0;
  /** The current resource's member count, the end of its last member, how the current member is reported. */
  private members = 0;
  private lastEnd = 0;
  private reporting = NOT_REPORTED;
  /** Bytes before this one have been read (a token cut off by the end of the text so far starts here). */
  private next = 0;
  private readonly m: Member = { keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0 };
  private readonly result: ScanResult = { lists: 0, singles: 0 };
  private readonly wanted: WantedKeys | undefined;

  constructor(private readonly names: ResourceNames, private readonly visitor: ResourceVisitor) {
    this.wanted = names.keys ? wantedKeys(names.keys) : undefined;
  }

  /** Read on in `b`, the text so far: its first bytes are the ones given before, unchanged. */
  feed(b: Buffer): void {
    this.read(b, false);
  }

  /** Read the end of `b`, the whole text. */
  finish(b: Buffer): ScanResult {
    this.read(b, true);
    if (this.state !== DONE) fail(b.length, 'unexpected end');
    return this.result;
  }

  private read(b: Buffer, final: boolean): void {
    const { names, visitor, m, result, wanted } = this;
    const n = b.length;
    // the loop works on locals (a field access per byte costs more than the byte), written back at the end
    let { stack, depth, state, top, resourceDepth, listDepth, containerStart, members, lastEnd, reporting } = this;
    let i = this.next;
    // (the "a value ended" step is written out three times below: a closure over these variables made
    // every access in this loop a context load)
    scan: for (; i < n; i++) {
      const c = b[i]!;
      if (isSpace(c)) continue;
      if (state === DONE) fail(i, 'bytes after the end');
      if (depth === 0 && c !== LBRACE) fail(i, 'object expected');
      if (c === QUOTE) {
        const s = i;
        // the closing quote: found natively (memchr), then checked for an odd run of backslashes before it
        for (;;) {
          i = b.indexOf(QUOTE, i + 1);
          if (i === -1) { i = n; break; }
          let k = i - 1;
          while (b[k] === BACKSLASH) k--;
          if (((i - 1 - k) & 1) === 0) break;
        }
        if (i >= n) {
          if (final) fail(s, 'unterminated string');
          i = s;
          break scan;
        }
        if (state === KEY || state === KEY_OR_CLOSE) {
          state = COLON_NEXT;
          if (depth === 1) {
            top = keyEquals(b, s + 1, i, names.list) ? TOP_LIST : keyEquals(b, s + 1, i, names.single) ? TOP_SINGLE : TOP_OTHER;
            if (top === TOP_LIST) result.lists++;
            else if (top === TOP_SINGLE) result.singles++;
          } else if (depth === resourceDepth) {
            reporting = reportAs(b, s + 1, i, wanted);
            m.keyStart = s + 1;
            m.keyEnd = i;
          }
          // the colon that follows almost every key, read here rather than by a turn of the loop
          const colon = afterSpace(b, i + 1);
          if (b[colon] === COLON) { state = VALUE; i = afterSpace(b, colon + 1) - 1; }
          continue;
        }
        if (state !== VALUE && state !== VALUE_OR_CLOSE) fail(s, 'unexpected string');
        if (depth === resourceDepth) {
          members++;
          lastEnd = i + 1;
          if (reporting !== NOT_REPORTED) { m.valueStart = s; m.valueEnd = i + 1; visitor.member(b, m, reporting); }
        }
        state = COMMA_OR_CLOSE;
        // likewise the comma after a string value
        const comma = afterSpace(b, i + 1);
        if (b[comma] === COMMA) { state = stack[depth] === OBJECT ? KEY : VALUE; i = afterSpace(b, comma + 1) - 1; }
        continue;
      }
      if (c === LBRACE || c === LBRACKET) {
        if (state !== VALUE && state !== VALUE_OR_CLOSE) fail(i, 'unexpected bracket');
        const isResource = resourceDepth === 0 && c === LBRACE
          && ((depth === 1 && top === TOP_SINGLE) || (listDepth !== 0 && depth === listDepth));
        if (depth === 1 && top === TOP_LIST && c === LBRACKET) listDepth = 2;
        if (depth === resourceDepth) containerStart = i;
        depth++;
        if (depth === stack.length) { const bigger = new Uint8Array(stack.length * 2); bigger.set(stack); stack = bigger; }
        stack[depth] = c === LBRACE ? OBJECT : ARRAY;
        state = c === LBRACE ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
        if (isResource) {
          resourceDepth = depth;
          members = 0;
          lastEnd = i + 1;
          visitor.start(i);
        }
        continue;
      }
      if (c === RBRACE || c === RBRACKET) {
        const kind = stack[depth];
        if (kind !== (c === RBRACE ? OBJECT : ARRAY)) fail(i, 'mismatched bracket');
        if (state !== COMMA_OR_CLOSE && state !== (kind === OBJECT ? KEY_OR_CLOSE : VALUE_OR_CLOSE)) fail(i, 'unexpected close');
        if (depth === resourceDepth) { visitor.end(i, members, lastEnd); resourceDepth = 0; }
        if (depth === listDepth) listDepth = 0;
        depth--;
        if (depth === 1) top = TOP_OTHER;
        if (depth !== 0 && depth === resourceDepth) {
          members++;
          lastEnd = i + 1;
          if (reporting !== NOT_REPORTED) { m.valueStart = containerStart; m.valueEnd = i + 1; visitor.member(b, m, reporting); }
        }
        state = depth === 0 ? DONE : COMMA_OR_CLOSE;
        continue;
      }
      if (c === COLON) {
        if (state !== COLON_NEXT) fail(i, 'unexpected colon');
        state = VALUE;
        continue;
      }
      if (c === COMMA) {
        if (state !== COMMA_OR_CLOSE) fail(i, 'unexpected comma');
        state = stack[depth] === OBJECT ? KEY : VALUE;
        continue;
      }
      if (state !== VALUE && state !== VALUE_OR_CLOSE) fail(i, 'unexpected value');
      const end = scalarEnd(b, i, final);
      if (end === UNFINISHED) break;
      if (depth === resourceDepth) {
        members++;
        lastEnd = end;
        if (reporting !== NOT_REPORTED) { m.valueStart = i; m.valueEnd = end; visitor.member(b, m, reporting); }
      }
      state = COMMA_OR_CLOSE;
      i = end - 1;
    }
    this.next = i;
    this.stack = stack;
    this.depth = depth;
    this.state = state;
    this.top = top;
    this.resourceDepth = resourceDepth;
    this.listDepth = listDepth;
    this.containerStart = containerStart;
    this.members = members;
    this.lastEnd = lastEnd;
    this.reporting = reporting;
  }
}

/** Whether the raw key bytes [start, end) are `name` (ASCII); an escaped key is decoded first. */
function keyEquals(b: Buffer, start: number, end: number, name: string): boolean {
  const length = end - start;
  // an escape only makes the raw key longer than the text it stands for
  if (length < name.length) return false;
  if (length > name.length) {
    for (let k = start; k < end; k++) {
      if (b[k] === BACKSLASH) return decodeString(b, start - 1, end + 1) === name;
    }
    return false;
  }
  return spells(b, start, name);
}

/** The text of a string token (quotes included in the range). */
export function decodeString(b: Buffer, start: number, end: number): string {
  for (let k = start; k < end; k++) {
    if (b[k] === BACKSLASH) return JSON.parse(b.toString('utf8', start, end)) as string;
  }
  return b.toString('utf8', start + 1, end - 1);
}

export function isStringAt(b: Buffer, i: number): boolean {
  return b[i] === QUOTE;
}
