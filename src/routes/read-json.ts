import type { Context } from 'hono';
import { InvalidRequestError } from '../errors.ts';
import type { AppEnv } from './app-env.ts';

/**
 * Reads the body as JSON whatever its Content-Type (a widget may send `text/plain` to skip a CORS
 * preflight); anything unparsable is a 400 `invalid_request`.
 *
 * @example
 * const body = schema.parse(await readJson(c));
 */
export async function readJson(c: Context<AppEnv>): Promise<unknown> {
  try {
    return await c.req.json();
  } catch (error) {
    throw new InvalidRequestError('body: expected valid JSON', { cause: error });
  }
}
