import type { ParameterizedContext } from 'koa';
import type { z } from 'zod';

/** Parses a request body against a schema, or answers 400 naming the first offending field. */
export function parseBody<T extends z.ZodType>(ctx: ParameterizedContext, schema: T): z.output<T> {
  const result = schema.safeParse(ctx.request.body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
  return ctx.throw(400, `${where}: ${issue.message}`, { code: 'invalid_body' });
}
