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

/** What the scan reports about the resource objects it finds. */
export interface ResourceVisitor {
  /** A resource object opens at `open`. */
  start(open: number): void;
  /** A member of the current resource (the object is reused between calls). */
  member(m: Member): void;
  /** The current resource's closing brace is at `close`. */
  end(close: number): void;
}

/** Where the resources are: `{"<list>": [ {...}, ... ]}` and `{"<single>": {...}}`. */
export interface ResourceNames {
  list: string;
  single: string;
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

/** Whether the bytes at `i` spell `word` (ASCII). */
function spells(b: Uint8Array, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** A number, true, false or null starting at `i`: the index after it. */
function scalarEnd(b: Uint8Array, i: number): number {
  const c0 = b[i];
  if (c0 === 0x6e) return spells(b, i, 'null') ? i + 4 : fail(i, 'unknown literal');
  if (c0 === 0x74) return spells(b, i, 'true') ? i + 4 : fail(i, 'unknown literal');
  if (c0 === 0x66) return spells(b, i, 'false') ? i + 5 : fail(i, 'unknown literal');
  let j = i;
  for (; j < b.length; j++) {
    const c = b[j]!;
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45 || c === 0x65)) break;
  }
  return j === i ? fail(i, 'value expected') : j;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Scan a whole JSON text whose top level is an object; report every object in the array under key
 * `names.list` and the object under key `names.single` (each time such a key appears) to `visitor`.
 * Throws JsonBytesError when the text is not JSON (or its top level not an object).
 */
export function scanResources(b: Uint8Array, names: ResourceNames, visitor: ResourceVisitor): ScanResult {
  const n = b.length;
  let stack = new Uint8Array(64);
  let depth = 0;
  let state = VALUE;
  let top = TOP_OTHER;
  // depth of the resource being reported (0: none): its members are the values at that depth
  let resourceDepth = 0;
  let listDepth = 0;
  let containerStart = 0;
  const result: ScanResult = { lists: 0, singles: 0 };
  const m: Member = { keyStart: 0, keyEnd: 0, valueStart: 0, valueEnd: 0 };
  // (the "a value ended" step is written out three times below: a closure over these variables made
  // every access in this loop a context load)
  for (let i = 0; i < n; i++) {
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
      if (i >= n) fail(s, 'unterminated string');
      if (state === KEY || state === KEY_OR_CLOSE) {
        state = COLON_NEXT;
        if (depth === 1) {
          top = keyEquals(b, s + 1, i, names.list) ? TOP_LIST : keyEquals(b, s + 1, i, names.single) ? TOP_SINGLE : TOP_OTHER;
          if (top === TOP_LIST) result.lists++;
          else if (top === TOP_SINGLE) result.singles++;
        } else if (depth === resourceDepth) {
          m.keyStart = s + 1;
          m.keyEnd = i;
        }
        continue;
      }
      if (state !== VALUE && state !== VALUE_OR_CLOSE) fail(s, 'unexpected string');
      if (depth === resourceDepth) { m.valueStart = s; m.valueEnd = i + 1; visitor.member(m); }
      state = COMMA_OR_CLOSE;
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
      if (isResource) { resourceDepth = depth; visitor.start(i); }
      continue;
    }
    if (c === RBRACE || c === RBRACKET) {
      const kind = stack[depth];
      if (kind !== (c === RBRACE ? OBJECT : ARRAY)) fail(i, 'mismatched bracket');
      if (state !== COMMA_OR_CLOSE && state !== (kind === OBJECT ? KEY_OR_CLOSE : VALUE_OR_CLOSE)) fail(i, 'unexpected close');
      if (depth === resourceDepth) { visitor.end(i); resourceDepth = 0; }
      if (depth === listDepth) listDepth = 0;
      depth--;
      if (depth === 1) top = TOP_OTHER;
      if (depth !== 0 && depth === resourceDepth) { m.valueStart = containerStart; m.valueEnd = i + 1; visitor.member(m); }
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
    const end = scalarEnd(b, i);
    if (depth === resourceDepth) { m.valueStart = i; m.valueEnd = end; visitor.member(m); }
    state = COMMA_OR_CLOSE;
    i = end - 1;
  }
  if (state !== DONE) fail(n, 'unexpected end');
  return result;
}

/** Whether the raw key bytes [start, end) are `name` (ASCII); an escaped key is decoded first. */
function keyEquals(b: Uint8Array, start: number, end: number, name: string): boolean {
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

/** Whether the key of member `m` is `name` (ASCII). */
export function keyIs(b: Uint8Array, m: Member, name: string): boolean {
  return keyEquals(b, m.keyStart, m.keyEnd, name);
}

/** The text of a string token (quotes included in the range). */
export function decodeString(b: Uint8Array, start: number, end: number): string {
  for (let k = start; k < end; k++) {
    if (b[k] === BACKSLASH) return JSON.parse(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8')) as string;
  }
  // a view, not a copy: Buffer.from over the same memory
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8', start + 1, end - 1);
}

export function isStringAt(b: Uint8Array, i: number): boolean {
  return b[i] === QUOTE;
}
