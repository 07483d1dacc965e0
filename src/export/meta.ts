import type { CinderVolume } from '../cinder/types.js';

export const META_VERSION = 1;

/** Fields of Cinder's volume answer that are not volume properties, so they stay out of the base metadata. */
const NOT_BASE = new Set(['links', 'metadata', 'volume_image_metadata', 'attachments']);

/**
 * The `volume-<id>.meta` document, in the original implementation's shape:
 * version 1, the volume's base fields, its user metadata, its image metadata and its attachments.
 */
export function buildExportMeta(volume: CinderVolume): Record<string, unknown> {
  const base: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(volume)) if (!NOT_BASE.has(key)) base[key] = value;
  // the original's DB model used display_name/display_description; keep both spellings for old readers
  base.display_name ??= volume.name ?? null;
  base.display_description ??= volume.description ?? null;
  return {
    version: META_VERSION,
    'volume-base-metadata': base,
    'volume-metadata': volume.metadata ?? {},
    'volume-glance-metadata': volume.volume_image_metadata ?? {},
    'volume-attachment-metadata': volume.attachments ?? [],
  };
}

/** The archive members for a volume id. */
export function memberNames(volumeId: string): { vol: string; meta: string } {
  return { vol: `volume-${volumeId}.vol`, meta: `volume-${volumeId}.meta` };
}
