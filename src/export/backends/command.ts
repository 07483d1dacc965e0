import type { BackendConfig } from '../../config/schema.js';
import { processSink } from './io.js';
import { spawnArgv } from './process.js';
import { refVars, substitute } from './template.js';
import type { Backend } from './types.js';

type CommandConfig = Extract<BackendConfig, { type: 'command' }>;

/** External commands (argv, no shell) that stream a volume to stdout or take it on stdin; placeholders per argument. */
export function commandBackend(cfg: CommandConfig): Backend {
  return {
    name: cfg.name,
    async openRead(ref, signal) {
      const template = ref.snapshotId ? cfg.snapshotExportCommand : cfg.exportCommand;
      if (!template) throw new Error(`backend ${cfg.name} has no snapshotExportCommand`);
      const vars = refVars(ref.volumeId, ref.snapshotId, ref.sizeBytes);
      const p = spawnArgv(template.map((a) => substitute(a, vars)), { stdin: false, stdout: true }, signal);
      return { size: ref.sizeBytes, pieces: p.stdout!, done: p.exited, close: p.kill };
    },
    async openWrite(ref, _imageSize, signal) {
      const vars = refVars(ref.volumeId, undefined, ref.sizeBytes);
      return processSink(cfg.importCommand.map((a) => substitute(a, vars)), signal);
    },
  };
}
