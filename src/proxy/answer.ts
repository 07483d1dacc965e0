import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoggerSource } from '../log.js';
import { cinderJson } from '../cinder/json.js';
import { CinderFault } from '../errors.js';
import { answerBodyFacts, answerHeaders, HeaderNames } from './headers.js';
import { acceptsStatus, applyRewrites, type Rewrite, type RewriteContext, type Splicer } from './rewrites/index.js';
import { ReceivedBytes } from './received-bytes.js';
import type { UpstreamAnswer } from './upstream-client.js';
import type { AnswerBuffers } from './answer-buffers.js';

export interface AnswerOptions {
  rewrites: readonly Rewrite[];
  ctx: RewriteContext;
  /** Answers larger than this are passed on untouched instead of being held in memory. */
  maxRewriteBytes: number;
  log: LoggerSource;
  /** Answer with this fault instead (the state store is unreachable). */
  unavailable(f: CinderFault): void;
  /** Where the buffers of answers being rewritten come from and go back to. */
  buffers: AnswerBuffers;
}

const NO_BODY_STATUSES = new Set([204, 304]);
/** Headers of the upstream's that a rewritten answer replaces. */
const SIZED_ANEW = new HeaderNames(['content-length']);

function isJson(contentType: string | undefined): boolean {
  return typeof contentType === 'string' && /^application\/([a-z0-9.+-]*\+)?json\b/i.test(contentType.trim());
}

/** Stream the upstream answer to the caller as it is. */
function passThrough(upstream: UpstreamAnswer, res: ServerResponse, prefix: Buffer[] = []): void {
  res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, answerHeaders(upstream.rawHeaders));
  for (const chunk of prefix) res.write(chunk);
  // pipe() plus the two teardowns pipeline() would do: pipeline() builds an AbortController per call and
  // a DOMException when it finishes, a measurable cost on every forwarded request
  upstream.pipe(res);
  upstream.once('error', () => res.destroy());
  res.once('close', () => { if (!upstream.readableEnded) upstream.destroy(); });
}

/** Send the upstream answer to the caller: rewritten when a rewrite applies and the body is small JSON, else streamed. */
export function sendAnswer(upstream: UpstreamAnswer, req: IncomingMessage, res: ServerResponse, options: AnswerOptions): void {
  const status = upstream.statusCode ?? 502;
  const applicable = acceptsStatus(options.rewrites, status);
  if (applicable.length === 0 || req.method === 'HEAD' || NO_BODY_STATUSES.has(status)) {
    passThrough(upstream, res);
    return;
  }
  const body = answerBodyFacts(upstream.rawHeaders);
  const declared = body.length;
  if (!isJson(body.contentType) || body.encoded || declared > options.maxRewriteBytes) {
    passThrough(upstream, res);
    return;
  }
  const received = new ReceivedBytes(declared, options.buffers);
  let sent: Buffer | undefined;
  // the buffers are lent until the response is done with them: written out, or the connection gone
  res.once('close', () => {
    received.release();
    if (sent) options.buffers.giveBack(sent);
  });
  // the one rewrite that can work on the bytes reads them as they arrive, while the rest is on the wire
  const splicer = applicable.length === 1 ? applicable[0]!.splicer?.(options.ctx) : undefined;
  const onData = (chunk: Buffer) => {
    received.add(chunk);
    if (received.length > options.maxRewriteBytes) {
      // too large to hold: send what we have and stream the rest untouched
      upstream.off('data', onData);
      upstream.off('end', onEnd);
      upstream.pause();
      options.log.logger.warn({ bytes: received.length, limit: options.maxRewriteBytes }, 'answer too large to rewrite, passed on untouched');
      passThrough(upstream, res, [received.bytes()]);
      return;
    }
    splicer?.feed(received.bytes());
  };
  const onEnd = () => {
    const original = received.bytes();
    const notRewritten = (err: unknown): Buffer | CinderFault => {
      // without the state the overlay would be a lie by omission (no `exporting`): say so instead
      if (err instanceof CinderFault && err.kind === 'stateUnavailable') return err;
      options.log.logger.warn({ err, rewrites: applicable.map((r) => r.name) }, 'answer not rewritten');
      return original;
    };
    const send = (bytes: Buffer | CinderFault) => {
      if (res.destroyed) return;
      if (bytes instanceof CinderFault) { options.unavailable(bytes); return; }
      sent = bytes;
      const headers = answerHeaders(upstream.rawHeaders, SIZED_ANEW);
      headers.push('Content-Length', String(bytes.length));
      res.writeHead(status, upstream.statusMessage, headers);
      res.end(bytes);
    };
    const rewritten = rewriteBytes(original, applicable, options.ctx, splicer, (size) => options.buffers.take(size));
    if (rewritten instanceof Promise) rewritten.catch(notRewritten).then(send); else send(rewritten);
  };
  upstream.on('data', onData);
  upstream.on('end', onEnd);
}

/**
 * The rewritten answer: spliced in place when the one rewrite that applies can do that (the answer keeps
 * Cinder's own bytes around the change), else parsed, rewritten and serialised. At once when the splice needs
 * no read (its overlays are cached), else a promise; never throws (JSON it cannot read is a rejection).
 * `splicer`: the one rewrite's splicer, already fed the answer as it arrived; `allocate`: where the spliced copy goes.
 */
export function rewriteBytes(original: Buffer, rewrites: readonly Rewrite[], ctx: RewriteContext,
  splicer: Splicer | undefined = rewrites.length === 1 ? rewrites[0]!.splicer?.(ctx) : undefined,
  allocate?: (size: number) => Buffer): Buffer | Promise<Buffer> {
  try {
    const spliced = splicer?.finish(original, allocate);
    if (spliced instanceof Promise) return spliced.then((bytes) => bytes ?? parsedRewrite(original, rewrites, ctx));
    return spliced ?? parsedRewrite(original, rewrites, ctx);
  } catch (err) {
    return Promise.reject(err);
  }
}

async function parsedRewrite(original: Buffer, rewrites: readonly Rewrite[], ctx: RewriteContext): Promise<Buffer> {
  const body = await applyRewrites(JSON.parse(original.toString('utf8')), ctx, rewrites);
  return Buffer.from(serializeRewritten(body, original.length));
}

/**
 * Answers up to this size are written in Cinder's own JSON style; larger ones (long detail lists)
 * compactly, since Python-style spacing costs about 3x JSON.stringify and clients parse both alike.
 */
const CINDER_STYLE_MAX_BYTES = 256 * 1024;

export function serializeRewritten(body: unknown, originalBytes: number): string {
  return originalBytes <= CINDER_STYLE_MAX_BYTES ? cinderJson(body) : JSON.stringify(body);
}
