import type { BackendConfig, Config } from '../../config/schema.js';
import { blockBackend } from './block.js';
import { commandBackend } from './command.js';
import { fileBackend } from './file.js';
import type { Backend } from './types.js';

export type { Backend, ReadSource, VolumeRef, WriteSink } from './types.js';

export function makeBackend(cfg: BackendConfig): Backend {
  switch (cfg.type) {
    case 'file': return fileBackend(cfg);
    case 'block': return blockBackend(cfg);
    case 'command': return commandBackend(cfg);
  }
}

/** The configured backends, and the choice for a volume's `os-vol-host-attr:host`. */
export function backendSelector(config: Pick<Config, 'backends' | 'defaultBackend'>): (host: string | null) => Backend {
  const built = config.backends.map((cfg) => ({
    backend: makeBackend(cfg),
    pattern: cfg.hostPattern !== undefined ? new RegExp(cfg.hostPattern) : null,
  }));
  if (built.length === 0) throw new Error('no storage backend configured');
  const fallback = built.find((b) => b.backend.name === config.defaultBackend) ?? built[0]!;
  return (host) => {
    if (host !== null) {
      const hit = built.find((b) => b.pattern?.test(host));
      if (hit) return hit.backend;
    }
    return fallback.backend;
  };
}
