import { z } from 'zod';
import { bearerToken, refuseBearer } from '../shared/bearer.js';
import type { ServiceMiddleware, ServiceState } from '../shared/state.js';
import { propagationHeaders } from '../shared/trace.js';
import { type BackendCallOptions, getJson } from './backend-call.js';
import { failBackend } from './backend-errors.js';

export interface OrdersState extends ServiceState {
  user: { id: string; username: string };
}

const meSchema = z.object({ id: z.string().min(1), username: z.string() });

export interface AuthenticateOptions {
  /** Base URL of the users service (the sidecar's egress listener). */
  usersUrl: string;
  call: BackendCallOptions;
}

/**
 * Asks users who the bearer token belongs to (GET /users/me, forwarding Authorization and the trace)
 * and keeps the answer on ctx.state.user. Only users judges a token: orders never holds its secret.
 */
export function authenticate({ usersUrl, call }: AuthenticateOptions): ServiceMiddleware<OrdersState> {
  const meUrl = `${usersUrl}/users/me`;
  return async function authenticateMiddleware(ctx, next) {
    const token = bearerToken(ctx);
    if (!token) refuseBearer(ctx, 'missing bearer token', false);
    const reply = await getJson(meUrl, { authorization: `Bearer ${token}`, ...propagationHeaders(ctx.state) }, call);
    if (reply.type === 'response' && reply.status === 401) refuseBearer(ctx, 'invalid or expired token', true);
    const me = reply.type === 'response' && reply.status === 200 ? meSchema.safeParse(reply.json) : undefined;
    if (!me?.success) failBackend(ctx, 'users', reply);
    ctx.state.user = { id: me.data.id, username: me.data.username };
    await next();
  };
}
