import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Error code of a connect that did not complete within the connect timeout (a blackholed or overloaded upstream). */
export const CONNECT_TIMEOUT_CODE = 'ECONNECTTIMEOUT';
/** Error code of an upstream that connected but did not answer (or went silent) within the answer timeout. */
export const ANSWER_TIMEOUT_CODE = 'EUPSTREAMTIMEOUT';

/**
 * Free keep-alive sockets are dropped after this idle time: below Cinder's own client_socket_timeout (900 s) and
 * the usual keep-alive timeouts of a balancer in front of it, so a reused socket is rarely one the far end closed.
 */
export const FREE_SOCKET_IDLE_MS = 4_000;

export interface UpstreamAgentOptions {
  maxSockets: number;
  connectTimeoutMs: number;
}

type ConnectingSocket = Duplex & { connecting?: boolean };

/**
 * Destroy `socket` with CONNECT_TIMEOUT_CODE unless it connects within `ms`.
 * The kernel retries SYNs for minutes against a blackholed address; this bounds the wait.
 */
export function armConnectTimeout(socket: ConnectingSocket, ms: number): void {
  if (!socket.connecting) return;
  const timer = setTimeout(() => {
    const err = Object.assign(new Error(`connect timed out after ${ms} ms`), { code: CONNECT_TIMEOUT_CODE });
    socket.destroy(err);
  }, ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  socket.once('connect', clear);
  socket.once('secureConnect', clear);
  socket.once('close', clear);
}

/** Node's margin below a server's keep-alive hint: the socket is dropped that long before the server would. */
const KEEP_ALIVE_HINT_MARGIN_MS = 1_000;

/** The seconds of an answer's first `Keep-Alive: timeout=N` header (as Node's agent reads `headers['keep-alive']`), read off the raw list. */
export function keepAliveHintSeconds(rawHeaders: readonly string[]): number | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 10 || rawHeaders[i]!.toLowerCase() !== 'keep-alive') continue;
    const hint = /^timeout=(\d+)/.exec(rawHeaders[i + 1]!)?.[1];
    return hint === undefined ? undefined : Number.parseInt(hint, 10);
  }
  return undefined;
}

/** Which upstream fault a network error stands for: `unavailable` (503), `timeout` (504), or null (not an upstream fault). */
export function classifyUpstreamError(err: unknown): 'unavailable' | 'timeout' | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === ANSWER_TIMEOUT_CODE) return 'timeout';
  if (typeof code !== 'string') return null;
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE',
    'ETIMEDOUT', CONNECT_TIMEOUT_CODE, 'EADDRNOTAVAIL', 'ERR_TLS_CERT_ALTNAME_INVALID'].includes(code)) {
    return 'unavailable';
  }
  return code.startsWith('ERR_SSL') || code.startsWith('UNABLE_TO') || code.startsWith('CERT_') ? 'unavailable' : null;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  [CONNECT_TIMEOUT_CODE]: 'connect timed out',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

/** A reason for the caller's fault that does not disclose the upstream's address (the log has the full error). */
export function upstreamFailureReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && REASONS[code]) || 'unreachable';
}

/**
 * A keep-alive agent of our own for the upstream (the global agents are never touched),
 * whose new sockets fail with CONNECT_TIMEOUT_CODE when the connect takes too long.
 */
export function createUpstreamAgent(url: URL, options: UpstreamAgentOptions): http.Agent {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: Math.min(options.maxSockets, 64), timeout: FREE_SOCKET_IDLE_MS };
  const Base = url.protocol === 'https:' ? https.Agent : http.Agent;
  class UpstreamAgent extends Base {
    override createConnection(...args: Parameters<http.Agent['createConnection']>): ReturnType<http.Agent['createConnection']> {
      const socket = super.createConnection(...args);
      if (socket) {
        armConnectTimeout(socket, options.connectTimeoutMs);
        // small requests and answers must not wait for Nagle's algorithm (40 ms stalls with delayed ACKs)
        (socket as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      }
      return socket;
    }

    /**
     * Node's own rule for a socket going back to the pool (the idle limit, shortened to the server's keep-alive
     * hint, or not kept when the hint leaves no time), with the hint read off the answer's raw header list:
     * Node's reads `res.headers`, which makes Node build the header object of every answer, one the
     * forwarder otherwise never needs (it reads the raw list).
     */
    override keepSocketAlive(socket: Socket & { _httpMessage?: { res?: http.IncomingMessage } }): boolean {
      socket.setKeepAlive(true, (this as unknown as { keepAliveMsecs: number }).keepAliveMsecs);
      socket.unref();
      let idleMs = FREE_SOCKET_IDLE_MS;
      let keep = true;
      const answer = socket._httpMessage?.res;
      const hint = answer && keepAliveHintSeconds(answer.rawHeaders);
      if (hint !== undefined) {
        const serverMs = Math.max(0, hint * 1000 - KEEP_ALIVE_HINT_MARGIN_MS);
        if (serverMs === 0) keep = false;
        else if (serverMs < idleMs) idleMs = serverMs;
      }
      if (socket.timeout !== idleMs) socket.setTimeout(idleMs);
      return keep;
    }
  }
  return new UpstreamAgent(agentOptions);
}
