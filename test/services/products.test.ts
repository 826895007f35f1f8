import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SEED_PRODUCTS } from '../../services/products/catalogue.js';
import { type ServiceUnderTest, startProducts } from './fixtures.js';
import { call, fakeClock } from './helpers.js';

describe('products service', () => {
  let products: ServiceUnderTest;

  before(async () => {
    products = await startProducts(fakeClock());
  });
  after(() => products.close());

  it('lists the seeded catalogue with integer prices in cents', async () => {
    const res = await call('GET', `${products.url}/products`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { products: SEED_PRODUCTS });
    assert.ok(res.body.products.length >= 5);
    for (const p of res.body.products) {
      assert.ok(Number.isInteger(p.price) && p.price > 0, `${p.id} has a price in cents`);
      assert.match(p.id, /^p-\d+$/);
    }
  });

  it('answers one product by its id', async () => {
    const res = await call('GET', `${products.url}/products/p-100`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, SEED_PRODUCTS.find((p) => p.id === 'p-100'));
  });

  it('answers 404 product_not_found for an unknown id', async () => {
    const res = await call('GET', `${products.url}/products/p-999`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: { code: 'product_not_found', message: 'no product "p-999"' } });
  });

  it('answers 405 with Allow for a method the catalogue does not take', async () => {
    const res = await call('POST', `${products.url}/products`, { json: {} });
    assert.equal(res.status, 405);
    assert.match(res.headers.get('allow') ?? '', /GET/);
  });
});
