import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { configSchema, type Config } from './schema.js';

/** Environment variables that override the common keys. */
export interface ConfigOverrides {
  STX_PROXY_PORT?: string;
  STX_PROXY_UPSTREAM?: string;
  STX_PROXY_EXPORT_DIR?: string;
  STX_PROXY_DATA_DIR?: string;
  STX_PROXY_LOG_LEVEL?: string;
  STX_PROXY_STATE_URL?: string;
  STX_PROXY_REPLICA_ID?: string;
}

export class ConfigError extends Error {}

function applyOverrides(raw: Record<string, any>, env: ConfigOverrides): Record<string, any> {
  const out = { ...raw };
  if (env.STX_PROXY_PORT !== undefined) {
    const port = Number(env.STX_PROXY_PORT);
    if (!Number.isInteger(port)) throw new ConfigError(`STX_PROXY_PORT: not a whole number: "${env.STX_PROXY_PORT}"`);
    out.listen = { ...(out.listen ?? {}), port };
  }
  if (env.STX_PROXY_UPSTREAM !== undefined) out.upstream = { ...(out.upstream ?? {}), url: env.STX_PROXY_UPSTREAM };
  if (env.STX_PROXY_EXPORT_DIR !== undefined) out.exportDir = env.STX_PROXY_EXPORT_DIR;
  if (env.STX_PROXY_DATA_DIR !== undefined) out.dataDir = env.STX_PROXY_DATA_DIR;
  if (env.STX_PROXY_LOG_LEVEL !== undefined) out.log = { ...(out.log ?? {}), level: env.STX_PROXY_LOG_LEVEL };
  if (env.STX_PROXY_STATE_URL) out.state = { ...(out.state ?? {}), url: env.STX_PROXY_STATE_URL };
  if (env.STX_PROXY_REPLICA_ID !== undefined) out.state = { ...(out.state ?? {}), replicaId: env.STX_PROXY_REPLICA_ID };
  return out;
}

/** Validate a parsed document; the error names every bad key (dotted path). */
export function parseConfig(raw: unknown, env: ConfigOverrides = {}): Config {
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new ConfigError('config: the top level must be a mapping');
  }
  const result = configSchema.safeParse(applyOverrides((raw ?? {}) as Record<string, any>, env));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return result.data;
}

/** Read a YAML file (missing file = error) and validate it. */
export function loadConfigFile(path: string, env: ConfigOverrides = {}): Config {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try { raw = parseYaml(text); } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  return parseConfig(raw, env);
}
