/** A product as the API shows it; prices are integer cents so totals never round. */
export interface Product {
  id: string;
  name: string;
  price: number;
  currency: string;
}

export interface Catalogue {
  list(): readonly Product[];
  find(id: string): Product | undefined;
}

/** The seeded catalogue: stable ids so demos, tests and `verify` can name a product. */
export const SEED_PRODUCTS: readonly Product[] = Object.freeze([
  { id: 'p-100', name: 'Mechanical keyboard', price: 8999, currency: 'USD' },
  { id: 'p-101', name: 'Wireless mouse', price: 2999, currency: 'USD' },
  { id: 'p-102', name: '27-inch monitor', price: 24900, currency: 'USD' },
  { id: 'p-103', name: 'USB-C dock', price: 12950, currency: 'USD' },
  { id: 'p-104', name: 'Noise-cancelling headphones', price: 19900, currency: 'USD' },
]);

export function createCatalogue(products: readonly Product[] = SEED_PRODUCTS): Catalogue {
  const list = Object.freeze(products.map((p) => Object.freeze({ ...p })));
  const byId = new Map(list.map((p) => [p.id, p]));
  return { list: () => list, find: (id) => byId.get(id) };
}
