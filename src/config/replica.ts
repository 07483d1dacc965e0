import { hostname } from 'node:os';
import type { Config } from './schema.js';

/** This replica's id: `state.replicaId`, else `<hostname>:<listen.port>` (the same after a restart). */
export function replicaIdOf(config: Pick<Config, 'state' | 'listen'>): string {
  return config.state.replicaId ?? `${hostname()}:${config.listen.port}`;
}
