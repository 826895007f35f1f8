import { randomBytes } from 'node:crypto';
import { MeshgwError } from '../../errors.js';
import { describeReply, firstProductId, loginToken, type LoginReply, type ShopClient, uniqueUsername } from './shop-client.js';

/** A user who has logged in through the gateway, and a product it can order. */
export interface ShopSession {
  username: string;
  login: LoginReply;
  productId: string;
}

/** Registers a fresh user, logs in (optionally with a short token lifetime) and finds a product. */
export async function openSession(client: ShopClient, apiKey: string | undefined, ttlSeconds?: number): Promise<ShopSession> {
  const username = uniqueUsername();
  const password = randomBytes(12).toString('base64url');
  const registered = await client.register(apiKey, username, password);
  if (registered.status !== 201) {
    throw new MeshgwError('CHECK_FAILED', `registering ${username} answered ${describeReply(registered)}, not 201`, 'Is the users service up behind the gateway? `meshgw status` shows it.');
  }
  const reply = await client.login(apiKey, username, password, ttlSeconds);
  const login = loginToken(reply);
  if (!login) throw new MeshgwError('CHECK_FAILED', `login answered ${describeReply(reply)}, not a token`, 'Check the users service log.');
  const products = await client.listProducts(apiKey);
  const productId = firstProductId(products);
  if (!productId) throw new MeshgwError('CHECK_FAILED', `GET /products answered ${describeReply(products)} without a product id`, 'Check the products service log.');
  return { username, login, productId };
}
