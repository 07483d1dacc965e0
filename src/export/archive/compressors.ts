import type { Config } from '../../config/schema.js';
import { spawnArgv, waitDrain } from '../backends/process.js';
import { expandHoles, type Piece } from '../zero.js';
import { parallelGzip } from './gzip-parallel.js';

export type Compression = Config['engine']['compression'];
/** The tar stream (holes not materialised) in, the archive's bytes out. */
export type Compressor = (input: AsyncIterable<Piece>, signal: AbortSignal) => AsyncIterable<Buffer>;

export const EXTENSIONS: Record<Compression, string> = { gzip: '.tgz', none: '.tar', zstd: '.tar.zst' };

/** Pipe a byte stream through an external filter (zstd), reading its output as it comes. */
async function* throughProcess(argv: string[], input: AsyncIterable<Buffer>, signal: AbortSignal): AsyncGenerator<Buffer> {
  const p = spawnArgv(argv, { stdin: true, stdout: true }, signal);
  const stdin = p.child.stdin!;
  const feed = (async () => {
    for await (const chunk of input) {
      if (!stdin.write(chunk)) await waitDrain(p);
    }
    stdin.end();
  })();
  feed.catch(() => p.kill());
  try {
    for await (const out of p.stdout!) yield out as Buffer;
    await feed;
    await p.exited;
  } finally {
    p.kill();
  }
}

export function makeCompressor(engine: Config['engine']): Compressor {
  switch (engine.compression) {
    // plain tar and zstd carry no index: holes are written out as zeros, as before
    case 'none': return (input) => expandHoles(input);
    case 'zstd': return (input, signal) => throughProcess(['zstd', '-q', '-T0', `-${engine.zstdLevel}`, '-c'], expandHoles(input), signal);
    case 'gzip': {
      const gz = parallelGzip({ level: engine.gzipLevel });
      return (input) => gz(input);
    }
  }
}
