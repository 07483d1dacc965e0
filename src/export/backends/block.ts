import { stat } from 'node:fs/promises';
import type { BackendConfig } from '../../config/schema.js';
import { rawSource, sequentialSink } from './io.js';
import { refVars, resolveTemplate } from './template.js';
import type { Backend } from './types.js';

type BlockConfig = Extract<BackendConfig, { type: 'block' }>;

/** A block device per volume (LVM, loop); the size comes from Cinder, as a device's stat size is 0. */
export function blockBackend(cfg: BlockConfig): Backend {
  return {
    name: cfg.name,
    async openRead(ref, signal) {
      let template = cfg.volumePath;
      if (ref.snapshotId) {
        if (!cfg.snapshotPath) throw new Error(`backend ${cfg.name} has no snapshotPath`);
        template = cfg.snapshotPath;
      }
      const path = await resolveTemplate(template, refVars(ref.volumeId, ref.snapshotId, ref.sizeBytes));
      return rawSource(path, ref.sizeBytes, signal);
    },
    async openWrite(ref) {
      const path = await resolveTemplate(cfg.volumePath, refVars(ref.volumeId, undefined, ref.sizeBytes));
      const st = await stat(path);
      if (!st.isBlockDevice() && !st.isFile()) throw new Error(`${path} is not a block device`);
      return sequentialSink(path);
    },
  };
}
