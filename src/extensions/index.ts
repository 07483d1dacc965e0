import { wrsSnapshot } from './wrs-snapshot.js';
import { wrsVolume } from './wrs-volume.js';
import type { ExtensionDescription } from '../cinder/types.js';
import type { ActionHandler, Extension } from './types.js';

export type { ActionDeps, ActionHandler, ActionRequest, ActionResult, Extension } from './types.js';

/** The extensions the proxy adds, in the order they are appended to Cinder's list. */
export const EXTENSIONS: readonly Extension[] = [wrsVolume, wrsSnapshot];

/** The entries appended to `GET .../extensions` (the forwarder appends them). */
export function extensionDescriptions(): ExtensionDescription[] {
  return EXTENSIONS.map((e) => ({ ...e.description, links: [...e.description.links] }));
}

export function findExtension(alias: string): ExtensionDescription | undefined {
  return EXTENSIONS.find((e) => e.description.alias === alias)?.description;
}

/** The first key of an action body that one of our extensions answers, with its handler. */
export function findAction(
  target: 'volume' | 'snapshot', body: Record<string, unknown>,
): { key: string; handler: ActionHandler } | undefined {
  for (const key of Object.keys(body)) {
    for (const ext of EXTENSIONS) {
      const actions = target === 'volume' ? ext.volumeActions : ext.snapshotActions;
      const handler = Object.hasOwn(actions, key) ? actions[key] : undefined;
      if (handler) return { key, handler };
    }
  }
  return undefined;
}
