import { Hono } from 'hono';
import { z } from 'zod';
import type { AccessStore } from '../access/access-store.ts';
import { daysBefore, utcDay } from '../access/windows.ts';
import { NotFoundError } from '../errors.ts';
import type { AppEnv } from './app-env.ts';

/** Days shown when the query names no `from`. */
export const DEFAULT_USAGE_DAYS = 30;

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'expected a UTC day, YYYY-MM-DD' });
const querySchema = z.object({
  key: z.string().min(1, { error: 'must not be empty' }).optional(),
  from: day.optional(),
  to: day.optional(),
});

export interface AdminUsageDeps {
  store: AccessStore;
  /** The clock, in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * `GET /admin/usage[?key=NAME][&from=YYYY-MM-DD][&to=YYYY-MM-DD]`: requests and prompt/completion tokens
 * per key and UTC day, newest first; by default the last 30 days of every key. Admin keys only (the
 * access control sees to that). 404 `not_found` for a key name that never existed.
 *
 * @example
 * app.route('/', createAdminUsageRoute({ store: access }));
 * // GET /admin/usage?key=intranet → {"from":"…","to":"…","usage":[{"key":"intranet","day":"…","requests":3,…}]}
 */
export function createAdminUsageRoute(deps: AdminUsageDeps): Hono<AppEnv> {
  const now = deps.now ?? Date.now;
  return new Hono<AppEnv>().get('/admin/usage', (c) => {
    const query = querySchema.parse(c.req.query());
    if (query.key !== undefined && !deps.store.getKey(query.key)) {
      throw new NotFoundError(`no key named "${query.key}"`);
    }
    const time = now();
    const from = query.from ?? daysBefore(time, DEFAULT_USAGE_DAYS);
    const to = query.to ?? utcDay(time);
    const usage = deps.store.usage({ from, to, ...(query.key === undefined ? {} : { keyName: query.key }) });
    return c.json({ from, to, usage });
  });
}
