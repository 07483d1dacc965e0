import type { StateStore } from '../state/types.js';
import type { ForwardOptions } from './contract.js';

/**
 * What an accepted upstream answer changes in the proxy's own state, done before the answer is sent on.
 * Today one effect: an `os-reset_status` Cinder accepted also clears the `error` the proxy lays over a
 * volume after a failed import (the original's reset did; Cinder never saw that status).
 */
export function postAnswerEffect(
  store: Pick<StateStore, 'clearStatusOverride'>, options: Pick<ForwardOptions, 'statusReset'>, status: number,
): Promise<void> | undefined {
  const reset = options.statusReset;
  if (!reset || status < 200 || status >= 300) return undefined;
  return store.clearStatusOverride(reset.resourceType, reset.resourceId);
}
