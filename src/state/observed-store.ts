import type { StateStore } from './types.js';

/**
 * The store with every failing call reported (`onError(method)`) before the failure goes on to the
 * caller unchanged: the metrics count the state store's errors wherever they happen.
 */
export function observeStoreErrors<S extends object = StateStore>(store: S, onError: (op: string) => void): S {
  // one wrapper per method name, made on first use (not a closure on every access of the hot path's reads);
  // it calls whatever the store holds under that name at the time
  const wrappers = new Map<string, (...args: unknown[]) => unknown>();
  const wrapperOf = (target: S, name: string) => (...args: unknown[]): unknown => {
    let result: unknown;
    try {
      result = (Reflect.get(target, name) as (...a: unknown[]) => unknown).apply(target, args);
    } catch (err) {
      onError(name);
      throw err;
    }
    if (result instanceof Promise) return result.catch((err: unknown) => { onError(name); throw err; });
    return result;
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      let wrapper = wrappers.get(prop);
      if (!wrapper) wrappers.set(prop, wrapper = wrapperOf(target, prop));
      return wrapper;
    },
  });
}
