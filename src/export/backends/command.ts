import type { BackendConfig } from '../../config/schema.js';
import { commandRanges, holesFromMap, normalise, outputOf, parseExtentList, piecesOf } from './extents.js';
import { processSink } from './io.js';
import { spawnArgv } from './process.js';
import { refVars, substitute, type TemplateVars } from './template.js';
import type { Backend, ReadSource } from './types.js';

type CommandConfig = Extract<BackendConfig, { type: 'command' }>;

/** A helper per data range costs a process start: gaps smaller than this are read as data. */
const RANGED_MIN_HOLE = 32 * 1024 * 1024;
const ranged = (template: string[]) => template.some((a) => a.includes('{offset}') || a.includes('{length}'));
const argv = (template: string[], vars: TemplateVars) => template.map((a) => substitute(a, vars));

/** External commands (argv, no shell) that stream a volume to stdout or take it on stdin; placeholders per argument. */
export function commandBackend(cfg: CommandConfig): Backend {
  return {
    name: cfg.name,
    async openRead(ref, signal): Promise<ReadSource> {
      const template = ref.snapshotId ? cfg.snapshotExportCommand : cfg.exportCommand;
      if (!template) throw new Error(`backend ${cfg.name} has no snapshotExportCommand`);
      const mapTemplate = ref.snapshotId ? cfg.snapshotMapCommand : cfg.mapCommand;
      const vars = refVars(ref.volumeId, ref.snapshotId, ref.sizeBytes);
      const size = ref.sizeBytes;
      if (mapTemplate) {
        const map = parseExtentList(await outputOf(argv(mapTemplate, vars), signal));
        if (ranged(template)) {
          const extents = normalise(map, size, RANGED_MIN_HOLE);
          const read = commandRanges((e) => argv(template, { ...vars, offset: String(e.offset), length: String(e.length) }), signal);
          return { size, pieces: piecesOf(extents, size, read), done: Promise.resolve(), close() {} };
        }
        const p = spawnArgv(argv(template, vars), { stdin: false, stdout: true }, signal);
        return { size, pieces: holesFromMap(p.stdout!, normalise(map, size, 0), size), done: p.exited, close: p.kill };
      }
      const p = spawnArgv(argv(template, vars), { stdin: false, stdout: true }, signal);
      return { size, pieces: p.stdout!, done: p.exited, close: p.kill };
    },
    async openWrite(ref, _imageSize, signal) {
      const vars = refVars(ref.volumeId, undefined, ref.sizeBytes);
      return processSink(cfg.importCommand.map((a) => substitute(a, vars)), signal);
    },
  };
}
