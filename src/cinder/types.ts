/** The fields of Cinder's volume object that the proxy reads; everything else is kept as it came. */
export interface CinderVolume {
  id: string;
  status: string;
  size: number;
  name?: string | null;
  description?: string | null;
  display_description?: string | null;
  volume_type?: string | null;
  updated_at?: string | null;
  metadata?: Record<string, string>;
  volume_image_metadata?: Record<string, string>;
  attachments?: unknown[];
  'os-vol-host-attr:host'?: string | null;
  [key: string]: unknown;
}

export interface CinderSnapshot {
  id: string;
  status: string;
  size: number;
  volume_id: string;
  name?: string | null;
  description?: string | null;
  updated_at?: string | null;
  [key: string]: unknown;
}

/** The caller's own credentials and ids, passed as they came (X-Auth-Token, OpenStack-API-Version, ...). */
export interface CallerContext {
  /** Headers of the caller's request to copy to the upstream check (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  requestId: string;
}

/** An upstream answer that was not 2xx: passed to the caller as it came (status, headers, raw body). */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: Buffer,
  ) {
    super(`upstream answered ${status}`);
  }
}

/** The calls the proxy makes to Cinder itself, always with the caller's credentials. */
export interface CinderApi {
  /** Throws UpstreamError for a non-2xx answer, CinderFault(upstreamUnavailable|upstreamTimeout) when it cannot reach Cinder. */
  /** A null project asks Cinder's project-less form (`/v3/volumes/{id}`). */
  getVolume(projectId: string | null, volumeId: string, caller: CallerContext): Promise<CinderVolume>;
  getSnapshot(projectId: string | null, snapshotId: string, caller: CallerContext): Promise<CinderSnapshot>;
  /** Snapshots whose volume_id is this volume (not deleted). */
  listVolumeSnapshots(projectId: string | null, volumeId: string, caller: CallerContext): Promise<CinderSnapshot[]>;
}

/** One entry of Cinder's extension list (GET /v3/{project}/extensions). */
export interface ExtensionDescription {
  alias: string;
  name: string;
  namespace: string;
  updated: string;
  description: string;
  links: unknown[];
}
