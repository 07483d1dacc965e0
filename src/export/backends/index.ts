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

/**
 * The backend name for a volume's `os-vol-host-attr:host`: the first whose hostPattern matches, else
 * `defaultBackend`, else the first. Decided when a job is accepted and recorded with it.
 */
export function chooseBackend(config: Pick<Config, 'backends' | 'defaultBackend'>, host: string | null): string {
  if (config.backends.length === 0) throw new Error('no storage backend configured');
  if (host !== null) {
    const hit = config.backends.find((b) => b.hostPattern !== undefined && new RegExp(b.hostPattern).test(host));
    if (hit) return hit.name;
  }
  return (config.backends.find((b) => b.name === config.defaultBackend) ?? config.backends[0]!).name;
}

/** The configured backends by name (a replica claims only jobs whose backend it has). */
export function backendRegistry(config: Pick<Config, 'backends'>): Map<string, Backend> {
  if (config.backends.length === 0) throw new Error('no storage backend configured');
  return new Map(config.backends.map((cfg) => [cfg.name, makeBackend(cfg)]));
}
