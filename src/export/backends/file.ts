import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BackendConfig } from '../../config/schema.js';
import { commandRanges, fileRanges, normalise, piecesOf, qemuImgMap, type Extent } from './extents.js';
import { processSink, sparseFileSink } from './io.js';
import { readQcow2Header } from './qcow2.js';
import { refVars, resolveTemplate } from './template.js';
import type { Backend, ReadSource, VolumeRef, WriteSink } from './types.js';

type FileConfig = Extract<BackendConfig, { type: 'file' }>;

/** The NFS driver's `volume-<id>.info`: `active` names the current file, snapshot ids name their overlays. */
async function readInfo(volumePath: string): Promise<Record<string, string> | null> {
  let text: string;
  try {
    text = await readFile(`${volumePath}.info`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${basename(volumePath)}.info is not a JSON object`);
  return parsed as Record<string, string>;
}

/** A file named in the .info must stay in the volume's directory. */
function sibling(volumePath: string, name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.includes('/') || name === '..') {
    throw new Error(`${basename(volumePath)}.info names an invalid file`);
  }
  return join(dirname(volumePath), name);
}

/** Holes smaller than this are read as data: for raw files not worth a hole, for qcow2 not worth a helper. */
const RAW_MIN_HOLE = 1024 * 1024;
const QCOW2_MIN_HOLE = 32 * 1024 * 1024;

/** One range of a qcow2 chain as raw: a raw driver with offset and size on top of the qcow2 one. */
function qcow2Range(path: string, e: Extent): string[] {
  const opts = `driver=raw,offset=${e.offset},size=${e.length},file.driver=qcow2,file.file.driver=file,file.file.filename=${path.replace(/,/g, ',,')}`;
  return ['nbdcopy', '--', '[', 'qemu-nbd', '-r', '--image-opts', opts, ']', '-'];
}

/**
 * Only the data is read: `qemu-img map` says where it is (through a qcow2 backing chain too); raw files
 * are read directly, qcow2 ranges through qemu-nbd + nbdcopy (qemu-img cannot write to a pipe).
 */
async function openImage(path: string, signal: AbortSignal): Promise<ReadSource> {
  const q = await readQcow2Header(path);
  if (q) {
    const extents = normalise(await qemuImgMap(path, 'qcow2', signal), q.virtualSize, QCOW2_MIN_HOLE);
    const pieces = piecesOf(extents, q.virtualSize, commandRanges((e) => qcow2Range(path, e), signal));
    return { size: q.virtualSize, pieces, done: Promise.resolve(), close() {} };
  }
  const size = (await stat(path)).size;
  const extents = normalise(await qemuImgMap(path, 'raw', signal), size, RAW_MIN_HOLE);
  const ranges = fileRanges(path, signal);
  return { size, pieces: piecesOf(extents, size, ranges.read), done: Promise.resolve(), close: () => { void ranges.close(); } };
}

/** A file per volume, understanding Cinder's NFS driver layout (raw file, `.info`, qcow2 overlays). */
export function fileBackend(cfg: FileConfig): Backend {
  const volumeFile = (ref: VolumeRef) => resolveTemplate(cfg.volumePath, refVars(ref.volumeId, ref.snapshotId, ref.sizeBytes));
  const activeFile = async (path: string) => {
    const info = await readInfo(path);
    return info?.active !== undefined ? sibling(path, info.active) : path;
  };

  async function snapshotFile(ref: VolumeRef, snapshotId: string): Promise<string> {
    if (cfg.snapshotPath) return resolveTemplate(cfg.snapshotPath, refVars(ref.volumeId, snapshotId, ref.sizeBytes));
    const path = await volumeFile(ref);
    const info = await readInfo(path);
    if (!info || info[snapshotId] === undefined) throw new Error(`snapshot ${snapshotId} not found in ${basename(path)}.info`);
    // the snapshot's overlay takes the writes made after it; its backing file holds the snapshot's data
    const overlay = sibling(path, info[snapshotId]);
    const header = await readQcow2Header(overlay);
    if (!header?.backingFile) throw new Error(`snapshot overlay ${basename(overlay)} has no backing file`);
    return header.backingFile;
  }

  return {
    name: cfg.name,
    async openRead(ref, signal) {
      const path = ref.snapshotId ? await snapshotFile(ref, ref.snapshotId) : await activeFile(await volumeFile(ref));
      return openImage(path, signal);
    },
    async openWrite(ref, imageSize, signal): Promise<WriteSink> {
      const path = await activeFile(await volumeFile(ref));
      const q = await readQcow2Header(path);
      if (q) {
        // a volume still living in an overlay (its snapshots deleted without a merge): write through
        // qemu so the chain stays consistent instead of writing raw under the driver's feet
        if (imageSize > q.virtualSize) throw new Error('image is larger than the volume');
        return processSink(['nbdcopy', '--', '-', '[', 'qemu-nbd', '-f', 'qcow2', path, ']'], signal);
      }
      const st = await stat(path);
      if (st.isFile()) {
        // keep the file's size (the volume's), growing it only if Cinder's size says it is short
        return sparseFileSink(path, Math.max(st.size, imageSize));
      }
      throw new Error(`${path} is not a regular file`);
    },
  };
}
