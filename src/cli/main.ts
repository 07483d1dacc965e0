// The operator's CLI: `stx-cinder-proxy jobs|cancel|verify|prune`. jobs, cancel and prune talk to the
// running proxy's admin endpoint (it owns the state); verify works offline on archive files.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { adminSocketPath } from '../admin/listen.js';
import { loadConfigFile, type ConfigOverrides } from '../config/load.js';
import { configPath } from '../config/path.js';
import { cancelCommand, pruneCommand } from './actions.js';
import { AdminError, type AdminTarget } from './admin-client.js';
import { jobsCommand, type Output } from './jobs.js';
import { verifyCommand } from './verify.js';

export const COMMANDS = ['jobs', 'cancel', 'verify', 'prune', 'help'] as const;

const USAGE = `usage: stx-cinder-proxy <command> [options]

  jobs [--all [--limit N]] [--watch] [-f table|json]
                                          queued and running jobs (--all: and the last N finished ones, 20)
  cancel JOB [-f table|json]              stop a job (on whichever replica runs it)
  verify FILE... [-f table|json]          check archives offline (checksum, compression, tar, meta, size)
  prune [--dry-run] [-f table|json]       apply the retention policy now (or say what it would delete)

  Without a command (or with --config only) the proxy itself starts.

options reaching the proxy (jobs, cancel, prune):
  --config PATH   the proxy's configuration (default: $STX_PROXY_CONFIG, else config/default.yaml): admin.socket, dataDir
  --socket PATH   the admin socket (default: <dataDir>/admin.sock)
  --url URL       the admin endpoint over TCP (admin.listen), e.g. http://127.0.0.1:9777
`;

export interface CliIo {
  argv: string[];
  env: NodeJS.ProcessEnv;
  out: Output;
  err: Output;
  signal: AbortSignal;
}

function target(values: { config?: string; socket?: string; url?: string }, env: NodeJS.ProcessEnv): AdminTarget {
  if (values.url) return { url: values.url };
  if (values.socket) return { socketPath: values.socket };
  const config = loadConfigFile(configPath(values.config ? ['--config', values.config] : [], env), env as ConfigOverrides);
  return { socketPath: adminSocketPath(config) };
}

export async function runCli(io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: io.argv, allowPositionals: true, strict: true,
    options: {
      config: { type: 'string' }, socket: { type: 'string' }, url: { type: 'string' },
      format: { type: 'string', short: 'f', default: 'table' },
      all: { type: 'boolean', default: false }, limit: { type: 'string' }, watch: { type: 'boolean', short: 'w', default: false },
      'dry-run': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...args] = positionals;
  if (values.help || command === 'help' || command === undefined) { io.out.write(USAGE); return command === undefined && !values.help ? 2 : 0; }
  if (values.format !== 'table' && values.format !== 'json') throw new UsageError(`-f: expected table or json, not ${values.format}`);
  const json = values.format === 'json';
  const argc = (min: number, max: number) => {
    if (args.length < min || args.length > max) throw new UsageError(`${command}: expected ${min === max ? min : `${min} or more`} argument(s)`);
  };
  switch (command) {
    case 'jobs':
      argc(0, 0);
      if (values.limit !== undefined && !/^[1-9]\d{0,5}$/.test(values.limit)) throw new UsageError(`--limit: expected a positive number, not ${values.limit}`);
      return jobsCommand(target(values, io.env), { all: values.all, limit: values.limit === undefined ? undefined : Number(values.limit),
        json, watch: values.watch, out: io.out, signal: io.signal });
    case 'cancel':
      argc(1, 1);
      return cancelCommand(target(values, io.env), args[0]!, { json, out: io.out, signal: io.signal });
    case 'prune':
      argc(0, 0);
      return pruneCommand(target(values, io.env), { dryRun: values['dry-run'], json, out: io.out });
    case 'verify':
      argc(1, Infinity);
      return verifyCommand(args, { json, out: io.out, signal: io.signal });
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

class UsageError extends Error {}

async function main(): Promise<void> {
  const controller = new AbortController();
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => controller.abort());
  let code: number;
  try {
    code = await runCli({ argv: process.argv.slice(2), env: process.env, out: process.stdout, err: process.stderr, signal: controller.signal });
  } catch (err) {
    const usage = err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`stx-cinder-proxy: ${(err as Error).message}\n${usage ? 'run `stx-cinder-proxy help` for usage\n' : ''}`);
    code = usage ? 2 : err instanceof AdminError ? 3 : 1;
  }
  process.exitCode = code;
}

function isProgram(): boolean {
  try { return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url); } catch { return false; }
}

if (isProgram()) void main();
