import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

/** An app listening on a real socket, for tests of what `app.request()` cannot show. */
export interface ListeningApp {
  /** `http://127.0.0.1:PORT`. */
  base: string;
  /** Drops open connections (streams included) and stops listening. */
  close(): Promise<void>;
}

/**
 * Serves `fetch` on 127.0.0.1 at a free port. Always `close()` it (e.g. in `afterAll`).
 *
 * @example
 * const server = await listen(createTestApp(kb).app.fetch);
 * await fetch(`${server.base}/health`);
 */
export async function listen(
  fetch: (request: Request) => Response | Promise<Response>,
): Promise<ListeningApp> {
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
