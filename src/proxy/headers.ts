import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';

/** Headers about one hop's connection: never forwarded in either direction. */
export const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/** Microversion headers: dropped when a /v2 request goes upstream as /v3, so Cinder answers at 3.0. */
const MICROVERSION_HEADERS = ['openstack-api-version', 'x-openstack-volume-api-version'];

function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.split(',')[0]?.trim() || undefined;
}

/** Host names as they may appear in a link; anything else (hostile input) is not used. */
const HOST_RE = /^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

/** How the caller reached the proxy: a proxy in front of us wins (its X-Forwarded-* headers), else this connection. */
export function publicOrigin(req: IncomingMessage, fallbackHost: string): { proto: 'http' | 'https'; host: string } {
  const fwdProto = first(req.headers['x-forwarded-proto'])?.toLowerCase();
  const proto = fwdProto === 'http' || fwdProto === 'https' ? fwdProto : req.socket instanceof TLSSocket ? 'https' : 'http';
  const candidates = [first(req.headers['x-forwarded-host']), first(req.headers.host)];
  const host = candidates.find((h): h is string => h !== undefined && HOST_RE.test(h)) ?? fallbackHost;
  return { proto, host };
}

export interface OutgoingHeaderOptions {
  /** /v2 sent upstream as /v3. */
  translated: boolean;
  /** Length of a body sent instead of the request stream. */
  bodyLength?: number;
  /** Ask for an unencoded answer (it is going to be parsed). */
  identity: boolean;
  origin: { proto: string; host: string };
}

const NO_TOKENS: ReadonlySet<string> = new Set();

/** The request headers sent upstream: the caller's, minus hop-by-hop ones, plus X-Forwarded-* for Cinder's links. */
export function outgoingHeaders(req: IncomingMessage, options: OutgoingHeaderOptions): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  const connection = req.headers.connection;
  // most callers send none (HTTP/1.1 keeps alive by default): no token set to build per request then
  const connectionTokens = connection ? new Set(connection.toLowerCase().split(',').map((t) => t.trim())) : NO_TOKENS;
  for (const name in req.headers) {
    const value = req.headers[name];
    if (HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    // Node already answered `100 Continue` to the caller; the upstream gets the body without waiting
    if (name === 'expect') continue;
    // oslo's HTTPProxyToWSGI reads RFC 7239 `Forwarded` before X-Forwarded-*: a caller's copy would
    // override the origin we set below and steer the links Cinder builds
    if (name === 'forwarded') continue;
    if (options.translated && MICROVERSION_HEADERS.includes(name)) continue;
    out[name] = value;
  }
  if (options.bodyLength !== undefined) {
    delete out['transfer-encoding'];
    out['content-length'] = String(options.bodyLength);
  }
  if (options.identity) out['accept-encoding'] = 'identity';
  const remote = req.socket.remoteAddress;
  const priorFor = Array.isArray(out['x-forwarded-for']) ? out['x-forwarded-for'].join(', ') : out['x-forwarded-for'];
  if (remote) out['x-forwarded-for'] = priorFor ? `${priorFor}, ${remote}` : remote;
  // single values: oslo's HTTPProxyToWSGI uses them verbatim
  out['x-forwarded-host'] = options.origin.host;
  out['x-forwarded-proto'] = options.origin.proto;
  return out;
}

/**
 * A few lower-case header names, matched against names in any case. Only a name as long as one of them is
 * lower-cased and looked up: on every answer, a lower-cased copy and a hash of each of its header names cost
 * more than the rest of passing the headers on.
 */
export class HeaderNames {
  private readonly names: ReadonlySet<string>;
  /** Bit n: some name is n characters long (n < 32). */
  private readonly lengths: number;
  private readonly anyLong: boolean;

  constructor(names: Iterable<string>) {
    this.names = new Set([...names].map((n) => n.toLowerCase()));
    let lengths = 0;
    for (const n of this.names) if (n.length < 32) lengths |= 1 << n.length;
    this.lengths = lengths;
    this.anyLong = [...this.names].some((n) => n.length >= 32);
  }

  has(name: string): boolean {
    const n = name.length;
    if (n < 32 ? (this.lengths & (1 << n)) === 0 : !this.anyLong) return false;
    return this.names.has(name.toLowerCase());
  }
}

/** What never goes back to the caller as the upstream sent it: hop-by-hop, and the framing of the body. */
const NOT_PASSED_BACK = new HeaderNames([...HOP_BY_HOP, 'transfer-encoding']);
const NO_NAMES = new HeaderNames([]);

/** Response headers for the caller as a flat [name, value, ...] list (original case), minus hop-by-hop and `drop`. */
export function answerHeaders(rawHeaders: string[], drop: HeaderNames = NO_NAMES): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (NOT_PASSED_BACK.has(name) || drop.has(name)) continue;
    out.push(name, rawHeaders[i + 1]!);
  }
  return out;
}

/** What an answer's headers say about its body, for the decision to rewrite it. */
export interface AnswerBodyFacts {
  contentType: string | undefined;
  /** Declared length; NaN when absent or not a number. */
  length: number;
  /** Any content coding other than identity. */
  encoded: boolean;
}

/**
 * The body facts read straight off the raw header list: building Node's `headers` object for three values
 * cost more than the rest of the decision. Read as that object would read them: the first Content-Type and
 * Content-Length; Content-Encoding counts when any of its values names a coding.
 */
export function answerBodyFacts(rawHeaders: readonly string[]): AnswerBodyFacts {
  let contentType: string | undefined;
  let length: string | undefined;
  let encoded = false;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    // only names of these lengths can match: the others are never lower-cased
    if (name.length === 12 && contentType === undefined && name.toLowerCase() === 'content-type') contentType = rawHeaders[i + 1];
    else if (name.length === 14 && length === undefined && name.toLowerCase() === 'content-length') length = rawHeaders[i + 1];
    else if (name.length === 16 && name.toLowerCase() === 'content-encoding') encoded ||= namesCoding(rawHeaders[i + 1]!);
  }
  return { contentType, length: length === undefined ? NaN : Number(length), encoded };
}

function namesCoding(value: string): boolean {
  return value.split(',').some((v) => { const coding = v.trim().toLowerCase(); return coding !== '' && coding !== 'identity'; });
}
