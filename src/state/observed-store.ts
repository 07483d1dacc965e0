import type { StateStore } from './types.js';

/**
 * The store with every failing call reported (`onError(method)`) before the failure goes on to the
 * caller unchanged: the metrics count the state store's errors wherever they happen.
 */
export function observeStoreErrors<S extends object = StateStore>(store: S, onError: (op: string) => void): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = (value as (...a: unknown[]) => unknown).apply(target, args);
        } catch (err) {
          onError(prop);
          throw err;
        }
        if (result instanceof Promise) return result.catch((err: unknown) => { onError(prop); throw err; });
        return result;
      };
    },
  });
}
