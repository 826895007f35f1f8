/**
 * A repository whose backend module loads in the background: the AWS SDK takes about half a second
 * to import, which a local app (SQLite) should never pay and a pod should not pay before it
 * listens. Loading starts at once; each call waits for it. Every method of a repository returns a
 * promise, so the wrapper keeps the interface as is.
 */
export function deferredRepository<R extends object>(load: () => Promise<R>): R {
  const ready = load();
  // A failed load is reported by each call that needs it, not as an unhandled rejection at startup.
  ready.catch(() => undefined);
  return new Proxy({} as R, {
    get(_target, method) {
      // Not a thenable: `await repository` must not wait for the load.
      if (method === 'then') return undefined;
      return async (...args: unknown[]) => {
        const repository = (await ready) as Record<PropertyKey, (...a: unknown[]) => unknown>;
        return repository[method](...args);
      };
    },
  });
}
