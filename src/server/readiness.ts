import type { Forwarder } from '../proxy/contract.js';
import type { StateStore } from '../state/types.js';

export interface Readiness {
  ready: boolean;
  /** `{"status": "ready"|"not ready", "upstream": "ok"|"down: ...", "state": "ok"|"down: ..."}` */
  body: { status: string; upstream: string; state: string };
}

/** /readyz: both dependencies checked at once; the body says which one is down. */
export async function checkReadiness(forwarder: Pick<Forwarder, 'ready'>, store: Pick<StateStore, 'ping'>): Promise<Readiness> {
  const [upstream, state] = await Promise.all([
    forwarder.ready().then((ok) => (ok ? 'ok' : 'down: upstream does not answer GET /'), (err: unknown) => `down: ${(err as Error).message}`),
    store.ping().then(() => 'ok', (err: unknown) => `down: ${(err as Error).message}`),
  ]);
  const ready = upstream === 'ok' && state === 'ok';
  return { ready, body: { status: ready ? 'ready' : 'not ready', upstream, state } };
}
