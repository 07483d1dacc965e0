/**
 * JSON as Cinder writes it (Python's json.dumps defaults): `", "` and `": "` separators and
 * non-ASCII characters escaped as \uXXXX, so answers the proxy makes or rewrites read like Cinder's own.
 */
export function cinderJson(value: unknown): string {
  return encode(value) ?? 'null';
}

/** Printable ASCII without quote or backslash: written as it is (nearly every string Cinder sends). */
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

function encodeString(s: string): string {
  if (isPlain(s)) return `"${s}"`;
  // JSON.stringify escapes quotes and control characters; Python additionally escapes all non-ASCII
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function encode(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string': return encodeString(value);
    case 'number': return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean': return value ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i > 0 ? ', ' : '') + (encode(value[i]) ?? 'null');
        return out + ']';
      }
      let out = '{';
      let first = true;
      for (const key in value) {
        if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
        const encoded = encode((value as Record<string, unknown>)[key]);
        if (encoded === undefined) continue;
        out += (first ? '' : ', ') + encodeString(key) + ': ' + encoded;
        first = false;
      }
      return out + '}';
    }
    default: return undefined; // undefined, functions, symbols: left out, as JSON.stringify does
  }
}
