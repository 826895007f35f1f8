import { z } from 'zod';

export const usernameSchema = z
  .string('expected a string')
  .regex(/^[a-z0-9_.-]{3,32}$/, 'expected 3 to 32 characters from a-z, 0-9, "_", "." and "-"');
export const passwordSchema = z
  .string('expected a string')
  .min(8, 'expected at least 8 characters')
  .max(128, 'expected at most 128 characters');

export const registrationSchema = z.object({ username: usernameSchema, password: passwordSchema }, 'expected a JSON object');

export function loginSchema(maxTtlSeconds: number) {
  return z.object(
    {
      username: z.string('expected a string'),
      password: z.string('expected a string'),
      ttlSeconds: z
        .number('expected a number')
        .int('expected a whole number of seconds')
        .min(1, 'expected at least 1 second')
        .max(maxTtlSeconds, `expected at most ${maxTtlSeconds} seconds`)
        .optional(),
    },
    'expected a JSON object',
  );
}
