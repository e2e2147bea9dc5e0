import { Hono } from 'hono';
import { AppError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { AppEnv } from './app-env.ts';

/**
 * `GET /health`: the process answers HTTP (liveness; checks nothing else, so a slow database never gets
 * a healthy process restarted). `GET /ready`: the store answers a trivial query (readiness), else 503
 * `not_ready`; the store's own error is logged by `onError`, never sent.
 *
 * @example
 * app.route('/', createHealthRoutes({ store }));
 */
export function createHealthRoutes(deps: { store: Pick<Store, 'ping'> }): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get('/health', (c) => c.json({ status: 'ok' }))
    .get('/ready', (c) => {
      try {
        deps.store.ping();
      } catch (error) {
        throw new AppError(503, 'not_ready', 'the knowledge base store is not available', { cause: error });
      }
      return c.json({ status: 'ready' });
    });
}
