import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../src/errors.ts';
import { browserAccess, isAllowedOrigin } from '../src/routes/cors.ts';
import { errorResponse } from '../src/routes/error-response.ts';

/** Which browser pages may call the API (`WIDGET_ORIGINS`), and the CORS headers the allowed ones get. */

describe('isAllowedOrigin', () => {
  const service = 'https://kb.intra.example/ask';
  const allowed = ['https://intranet.example', 'http://wiki.example:8080'];

  it.each([
    ['https://intranet.example', 'listed'],
    ['HTTPS://INTRANET.EXAMPLE', 'listed, in other case'],
    ['https://intranet.example:443', 'listed, with its default port spelled out'],
    ['http://wiki.example:8080', 'listed with a port'],
    ['https://kb.intra.example', "the service's own origin"],
    ['http://kb.intra.example', "the service's own host behind a TLS-terminating proxy"],
    ['http://localhost:5173', 'loopback: localhost'],
    ['https://localhost', 'loopback: localhost over https'],
    ['http://127.0.0.1:3000', 'loopback: 127.0.0.1'],
    ['http://[::1]:8080', 'loopback: IPv6'],
  ])('allows %s (%s)', (origin) => {
    expect(isAllowedOrigin(origin, service, allowed)).toBe(true);
  });

  it.each([
    ['https://evil.example', 'not listed'],
    ['http://intranet.example', 'listed only over https'],
    ['https://intranet.example.evil.example', 'a listed name as a prefix'],
    ['https://evilintranet.example', 'a listed name as a suffix'],
    ['http://wiki.example:8081', 'listed host on another port'],
    ['https://kb.intra.example.evil.example', "the service's name as a prefix"],
    ['http://localhost.evil.example', 'loopback name as a prefix'],
    ['http://127.0.0.2', 'another loopback address, not on the list'],
    ['null', 'sandboxed frames and file: pages'],
    ['file://', 'file URLs'],
    ['chrome-extension://abc', 'extensions'],
    ['not a url', 'garbage'],
    ['', 'empty'],
  ])('refuses %s (%s)', (origin) => {
    expect(isAllowedOrigin(origin, service, allowed)).toBe(false);
  });

  it('ignores malformed entries in the list instead of failing', () => {
    expect(isAllowedOrigin('https://a.example', service, ['not a url', 'https://a.example/'])).toBe(true);
  });
});

describe('browserAccess', () => {
  function app() {
    const a = new Hono();
    a.use('/ask', browserAccess({ allowedOrigins: ['https://intranet.example'] }));
    a.post('/ask', async (c) => {
      const body = (await c.req.json()) as { question?: string };
      if (!body.question) throw new InvalidRequestError('question: must not be empty');
      return c.json({ answer: 'ok' });
    });
    a.onError((error, c) => {
      const { status, body } = errorResponse(error, 'req-1');
      return c.json(body, status);
    });
    return a;
  }
  const post = (headers: Record<string, string>, body: unknown = { question: 'q' }) =>
    app().request('http://kb.example/ask', { method: 'POST', headers, body: JSON.stringify(body) });

  it('answers an allowed preflight with 204 and the methods and headers the widget sends', async () => {
    const res = await app().request('http://kb.example/ask', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://intranet.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://intranet.example');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('lets an allowed origin read answers and errors, and the request id', async () => {
    const ok = await post({ Origin: 'https://intranet.example' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://intranet.example');
    expect(ok.headers.get('access-control-expose-headers')).toBe('X-Request-Id');
    expect(ok.headers.get('vary')).toContain('Origin');

    const bad = await post({ Origin: 'https://intranet.example' }, {});
    expect(bad.status).toBe(400);
    expect(bad.headers.get('access-control-allow-origin')).toBe('https://intranet.example');
  });

  it('refuses a request from an origin not on the list with 403 forbidden and no CORS headers', async () => {
    const res = await post({ Origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(await res.json()).toEqual({
      error: {
        code: 'forbidden',
        message:
          'pages from https://evil.example may not call this service; add the origin to WIDGET_ORIGINS',
        requestId: 'req-1',
      },
    });
  });

  it('refuses the preflight of an origin not on the list too', async () => {
    const res = await app().request('http://kb.example/ask', {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('leaves requests without an Origin header (curl, servers) alone', async () => {
    const res = await post({});
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("allows the service's own pages and loopback pages without configuration", async () => {
    expect((await post({ Origin: 'http://kb.example' })).status).toBe(200);
    expect((await post({ Origin: 'http://localhost:5173' })).status).toBe(200);
  });
});
