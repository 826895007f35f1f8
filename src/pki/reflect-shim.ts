/**
 * @peculiar/x509 resolves its algorithm providers through tsyringe, which refuses to load unless
 * a Reflect metadata API exists (its README asks for `reflect-metadata`). tsyringe only stores and
 * reads a few metadata entries per class, so this WeakMap-backed subset is enough and saves a
 * dependency. Import this module before @peculiar/x509.
 */
type MetadataKey = unknown;
type Target = object;

const store = new WeakMap<Target, Map<MetadataKey, unknown>>();

function ownMap(target: Target, create: boolean): Map<MetadataKey, unknown> | undefined {
  let map = store.get(target);
  if (!map && create) {
    map = new Map();
    store.set(target, map);
  }
  return map;
}

interface ReflectMetadataSubset {
  defineMetadata(key: MetadataKey, value: unknown, target: Target): void;
  getOwnMetadata(key: MetadataKey, target: Target): unknown;
  getMetadata(key: MetadataKey, target: Target): unknown;
}

const reflect = Reflect as unknown as Partial<ReflectMetadataSubset>;

if (typeof reflect.getMetadata !== 'function') {
  reflect.defineMetadata = (key, value, target) => void ownMap(target, true)!.set(key, value);
  reflect.getOwnMetadata = (key, target) => ownMap(target, false)?.get(key);
  reflect.getMetadata = (key, target) => {
    // Walk the prototype chain as reflect-metadata does.
    for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
      const map = ownMap(t, false);
      if (map?.has(key)) return map.get(key);
    }
    return undefined;
  };
}

export {};
