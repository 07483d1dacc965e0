/**
 * The few ustar headers our archives need, written and read without a tar library, so the volume's
 * holes pass through as lengths (tar-stream wants every byte). Sizes of 8 GiB and more use GNU's
 * base-256 size field, which GNU tar, Python's tarfile and tar-stream read.
 */
export const BLOCK = 512;
const MAX_OCTAL_SIZE = 0o77777777777;

export interface TarHeader { name: string; size: number; type: string }

function octal(buf: Buffer, value: number, off: number, width: number): void {
  buf.write(`${value.toString(8).padStart(width - 1, '0')}\0`, off, width, 'latin1');
}

export function encodeHeader(opts: { name: string; size: number; mode: number; mtime: Date }): Buffer {
  const buf = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(opts.name) > 100) throw new Error(`member name too long: ${opts.name}`);
  buf.write(opts.name, 0, 100, 'utf8');
  octal(buf, opts.mode, 100, 8);
  octal(buf, 0, 108, 8);
  octal(buf, 0, 116, 8);
  if (opts.size <= MAX_OCTAL_SIZE) {
    octal(buf, opts.size, 124, 12);
  } else {
    buf[124] = 0x80;
    let v = BigInt(opts.size);
    for (let i = 135; i > 124; i--) { buf[i] = Number(v & 0xffn); v >>= 8n; }
  }
  octal(buf, Math.floor(opts.mtime.getTime() / 1000), 136, 12);
  buf.fill(0x20, 148, 156);
  buf[156] = 0x30; // '0': regular file
  buf.write('ustar\u000000', 257, 8, 'latin1');
  octal(buf, checksum(buf), 148, 7);
  buf[155] = 0x20;
  return buf;
}

function checksum(buf: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : buf[i]!;
  return sum;
}

const cstr = (buf: Buffer, off: number, len: number) => {
  const field = buf.subarray(off, off + len);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? len : end).toString('utf8');
};

function readNumber(buf: Buffer, off: number, len: number): number {
  if (buf[off]! & 0x80) {
    if (buf[off] !== 0x80) throw new Error('tar header: negative or oversized number');
    let v = 0n;
    for (let i = off + 1; i < off + len; i++) v = (v << 8n) | BigInt(buf[i]!);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('tar header: size out of range');
    return Number(v);
  }
  const text = cstr(buf, off, len).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error('tar header: invalid number field');
  return text === '' ? 0 : parseInt(text, 8);
}

const TYPES: Record<string, string> = {
  '0': 'file', '\0': 'file', '1': 'link', '2': 'symlink', '3': 'character-device', '4': 'block-device',
  '5': 'directory', '6': 'fifo', '7': 'contiguous-file', x: 'pax-header', g: 'pax-global-header',
  L: 'gnu-long-path', K: 'gnu-long-link-path', S: 'gnu-sparse',
};

/** A header block, or null for an all-zero block (the end of the archive). Throws on a bad checksum. */
export function decodeHeader(buf: Buffer): TarHeader | null {
  if (buf.every((b) => b === 0)) return null;
  if (readNumber(buf, 148, 8) !== checksum(buf)) throw new Error('Invalid tar header: checksum mismatch');
  let name = cstr(buf, 0, 100);
  if (buf.subarray(257, 262).toString('latin1') === 'ustar' && buf[345] !== 0) name = `${cstr(buf, 345, 155)}/${name}`;
  const flag = String.fromCharCode(buf[156]!);
  return { name, size: readNumber(buf, 124, 12), type: TYPES[flag] ?? `unknown type ${JSON.stringify(flag)}` };
}
