import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp, openTestKnowledgeBase, type TestKnowledgeBase } from './app-fixture.ts';
import { openTestAccess, type TestAccess } from './access-fixture.ts';

/** Over a real socket, because only there does a request have a peer address to limit. */

let kb: TestKnowledgeBase;
let access: TestAccess;
let server: Server;
let base: string;

beforeAll(async () => {
  kb = await openTestKnowledgeBase();
  access = openTestAccess(kb.dir);
  const { app } = createTestApp(kb, { access: access.store, env: { OPEN_IP_DAILY_LIMIT: '1' } });
  server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s as Server));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  access?.close();
  kb?.close();
});

it('without keys limits the peer address (here one request a day), and ignores X-Forwarded-For unless TRUST_PROXY is set', async () => {
  expect((await fetch(`${base}/nope`)).status).toBe(404);
  const forged = await fetch(`${base}/nope`, { headers: { 'X-Forwarded-For': '203.0.113.9' } });
  expect(forged.status).toBe(429);
  expect(Number(forged.headers.get('retry-after'))).toBeGreaterThan(0);
  const subjects = access.db.prepare('SELECT DISTINCT subject FROM rate_counters').all();
  expect(subjects).toEqual([{ subject: 'ip:127.0.0.1' }]);
});
