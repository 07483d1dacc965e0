import { hostname } from 'node:os';
import type { Config } from './schema.js';

/**
 * This replica's id: `state.replicaId`, else `<hostname>:<listen.port>` (the same after a restart). With
 * port 0 (any free port) that would name every such replica on the host alike, and each would take the
 * others' jobs for its own at start: such a replica is `<hostname>:0:pid<pid>`, its own until it stops.
 */
export function replicaIdOf(config: Pick<Config, 'state' | 'listen'>, pid = process.pid): string {
  if (config.state.replicaId !== undefined) return config.state.replicaId;
  return config.listen.port === 0 ? `${hostname()}:0:pid${pid}` : `${hostname()}:${config.listen.port}`;
}
