import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWidgetRoutes } from '../src/routes/widget.ts';
import { buildWidget, type WidgetBundle } from '../src/widget/build.ts';

/** `GET /widget.js` (the bundle, cached and revalidated) and `GET /` (the demo page). */

let bundle: WidgetBundle;
beforeAll(async () => {
  bundle = await buildWidget();
});

describe('the widget bundle', () => {
  it('stays within its size budget of 25 KB gzipped', () => {
    expect(bundle.gzipBytes).toBeGreaterThan(1000);
    expect(bundle.gzipBytes).toBeLessThanOrEqual(25 * 1024);
  });

  it('is one classic script that defines only window.KbWidget, with the shared protocol types compiled away', () => {
    expect(bundle.code.startsWith('"use strict";(()=>{') || bundle.code.startsWith('(()=>{')).toBe(true);
    expect(bundle.code).toContain('KbWidget');
    expect(bundle.code).not.toMatch(/\bimport\s*[({"']|\brequire\(/);
    // ES2019 output: no optional chaining or nullish coalescing left for older browsers to choke on.
    expect(bundle.code).not.toMatch(/\?\.[A-Za-z_$(]|\?\?/);
  });

  it('has an ETag that changes with the code', async () => {
    expect(bundle.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect((await buildWidget()).etag).toBe(bundle.etag);
  });
});

describe('GET /widget.js', () => {
  const get = (headers: Record<string, string> = {}, method = 'GET') =>
    createWidgetRoutes(bundle).request('http://kb.example/widget.js', { method, headers });

  it('serves the script to any origin with caching headers and an ETag', async () => {
    const res = await get({ Origin: 'https://anywhere.example' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    expect(res.headers.get('etag')).toBe(bundle.etag);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(bundle.code);
  });

  it('answers 304 with no body when If-None-Match names the current version', async () => {
    for (const tag of [bundle.etag, `W/${bundle.etag}`, `"old", ${bundle.etag}`, '*']) {
      const res = await get({ 'If-None-Match': tag });
      expect(res.status, tag).toBe(304);
      expect(res.headers.get('etag')).toBe(bundle.etag);
      expect(res.headers.get('cache-control')).toBe('public, max-age=300');
      expect(await res.text()).toBe('');
    }
    expect((await get({ 'If-None-Match': '"an-older-build"' })).status).toBe(200);
  });

  it('sends it gzipped, under its own ETag, to clients that accept gzip', async () => {
    const res = await get({ 'Accept-Encoding': 'gzip, deflate, br' });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(res.headers.get('vary')).toBe('Accept-Encoding');
    const gzEtag = res.headers.get('etag')!;
    expect(gzEtag).not.toBe(bundle.etag);
    expect(gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8')).toBe(bundle.code);
    expect((await get({ 'Accept-Encoding': 'gzip', 'If-None-Match': gzEtag })).status).toBe(304);
    expect((await get({ 'Accept-Encoding': 'gzip;q=0' })).headers.get('content-encoding')).toBeNull();
  });

  it('answers HEAD with the headers only', async () => {
    const res = await get({}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(bundle.etag);
    expect(await res.text()).toBe('');
  });
});

describe('GET /', () => {
  it('serves a bilingual demo page that embeds the widget and shows the tag to copy', async () => {
    const res = await createWidgetRoutes(bundle).request('http://kb.example:8787/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    expect(html).toContain('<script src="/widget.js" data-kb="default" defer></script>');
    expect(html).toContain(
      '&lt;script src=&quot;http://kb.example:8787/widget.js&quot; data-kb=&quot;default&quot; defer&gt;&lt;/script&gt;',
    );
    expect(html).toContain('WIDGET_ORIGINS');
    expect(html).toMatch(/[\u4e00-\u9fff]/);
  });

  it('sets the widget language from ?lang= and ignores other values', async () => {
    const routes = createWidgetRoutes(bundle);
    expect(await (await routes.request('/?lang=zh-CN')).text()).toContain(
      'data-kb="default" data-lang="zh-CN" defer',
    );
    const hostile = await (await routes.request('/?lang=%22%3E%3Cscript%3Ealert(1)%3C/script%3E')).text();
    expect(hostile).not.toContain('alert(1)');
    expect(hostile).toContain('<script src="/widget.js" data-kb="default" defer></script>');
  });
});
