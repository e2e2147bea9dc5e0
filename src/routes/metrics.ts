import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { AppEnv } from './app-env.ts';

/**
 * `GET /metrics`: the app's registry in the Prometheus text format.
 *
 * @example
 * app.route('/', createMetricsRoute({ registry: metrics.registry }));
 */
export function createMetricsRoute(deps: { registry: Registry }): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/metrics', async (c) => {
    const body = await deps.registry.metrics();
    return c.body(body, 200, { 'Content-Type': deps.registry.contentType });
  });
}
