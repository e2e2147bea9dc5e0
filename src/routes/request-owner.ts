import type { Context } from 'hono';
import type { AppEnv } from './app-env.ts';

/**
 * Who owns what a request creates (a server-side conversation): the id of its API key as text, or null
 * while the service runs without keys. Only the same owner may read or continue it again.
 *
 * @example
 * const owner = requestOwner(c); // '3' for key #3, null without keys
 */
export function requestOwner(c: Context<AppEnv>): string | null {
  const key = c.get('apiKey');
  return key === undefined ? null : String(key.id);
}
