import { isAllZero, isHole, pieceLength, zeroBytes, type Piece } from '../zero.js';
import { BLOCK, decodeHeader, type TarHeader } from './tar-format.js';

export interface PieceEntry { header: TarHeader; data: AsyncIterable<Piece> }

/** Pull exactly n bytes at a time from a piece stream, splitting pieces as needed. */
function puller(input: AsyncIterable<Piece>) {
  const it = input[Symbol.asyncIterator]();
  let head: Piece | undefined;
  return {
    /** Up to `max` bytes as one piece; undefined at the end of the stream. */
    async next(max: number): Promise<Piece | undefined> {
      if (!head) {
        const r = await it.next();
        if (r.done) return undefined;
        head = r.value;
      }
      const len = pieceLength(head);
      if (len <= max) { const p = head; head = undefined; return p; }
      const p = head;
      head = isHole(p) ? { hole: len - max } : p.subarray(max);
      return isHole(p) ? { hole: max } : p.subarray(0, max);
    },
    /** Exactly n bytes as one buffer (tar headers, padding), or fewer at the end of the stream. */
    async bytes(n: number): Promise<Buffer> {
      const parts: Buffer[] = [];
      let have = 0;
      while (have < n) {
        const p = await this.next(n - have);
        if (!p) break;
        parts.push(...(isHole(p) ? zeroBytes(p.hole) : [p]));
        have += pieceLength(p);
      }
      return Buffer.concat(parts, have);
    },
    async return(): Promise<void> { await it.return?.(); },
  };
}

/**
 * Read a tar stream made of pieces: headers are checked (checksum), each entry's data is handed on as
 * pieces, holes untouched. The consumer must read each entry to its end before the next.
 */
export async function* tarEntries(input: AsyncIterable<Piece>): AsyncGenerator<PieceEntry> {
  const src = puller(input);
  try {
    for (;;) {
      const block = await src.bytes(BLOCK);
      if (block.length === 0) return;
      if (block.length < BLOCK) throw new Error('Unexpected end of data in a tar header');
      const header = decodeHeader(block);
      if (!header) break;
      let left = header.size;
      const data = (async function* () {
        while (left > 0) {
          const p = await src.next(left);
          if (!p) throw new Error('Unexpected end of data in the volume member');
          left -= pieceLength(p);
          yield p;
        }
      })();
      yield { header, data };
      for await (const _ of data) { /* an entry the consumer left unread */ }
      const pad = (BLOCK - (header.size % BLOCK)) % BLOCK;
      if ((await src.bytes(pad)).length < pad) throw new Error('Unexpected end of data in tar padding');
    }
    // after the end-of-archive block only zeros may follow
    for (let p = await src.next(BLOCK * 2048); p; p = await src.next(BLOCK * 2048)) {
      if (!isHole(p) && !isAllZero(p)) throw new Error('data after the end of the tar archive');
    }
  } finally {
    await src.return();
  }
}
