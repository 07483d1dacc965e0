import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CinderTarget } from '../cinder/path.js';
import type { LoggerSource } from '../log.js';
import type { ResourceType } from '../state/types.js';

/** What the server hands the proxy for one request. */
export interface ForwardOptions {
  requestId: string;
  /** The request's logger for the proxy's lines (`module: proxy` and the request id; made on first use). */
  log: LoggerSource;
  /** The request target as Cinder reads it, parsed once by the server (src/cinder/path.ts). */
  target: CinderTarget;
  /** Bytes already read from the request (an action body the server inspected); sent instead of the request stream. */
  body?: Buffer;
  /** Whether backup_status may be injected into this answer (false when wrs-header gating is on and absent). */
  injectBackupStatus: boolean;
  /**
   * This is an `os-reset_status` of that resource: once Cinder accepts it, the `error` the proxy lays over a
   * volume after a failed import goes too, as the original's reset did (Cinder itself never saw that status).
   */
  statusReset?: { resourceType: ResourceType; resourceId: string };
  /** Told the upstream answer's status as soon as it arrives (the metrics' upstream latency). */
  onUpstreamStatus?: (status: number) => void;
}

/** The forwarding half of the product: everything that is not answered locally goes through here. */
export interface Forwarder {
  /** Forward the request upstream (translating /v2 to /v3 when needed) and stream the (rewritten) answer back. */
  forward(req: IncomingMessage, res: ServerResponse, options: ForwardOptions): void;
  /**
   * The path prefix to use for the proxy's own upstream calls for an API version the caller used:
   * `v2` stays `v2` against an upstream that serves v2, becomes `v3` against a v3-only one.
   */
  upstreamApiVersion(callerVersion: 'v2' | 'v3'): Promise<'v2' | 'v3'>;
  /** Whether the upstream answers `GET /` (for /readyz). */
  ready(): Promise<boolean>;
  close(): void;
}
