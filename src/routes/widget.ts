import { gzipSync } from 'node:zlib';
import { Hono } from 'hono';
import { demoPage } from '../widget/demo-page.ts';
import type { WidgetBundle } from '../widget/build.ts';
import type { AppEnv } from './app-env.ts';

/** How long browsers and proxies may reuse `/widget.js` without asking, in seconds. Short, so a new
 * release reaches pages within minutes; after that a revalidation costs a 304. */
const WIDGET_MAX_AGE = 300;

/** Knowledge base the demo page's widget asks: the one the quick start ingests. */
const DEMO_KB = 'default';

/** Whether an `If-None-Match` header names one of `etags` (weak comparison, as RFC 9110 asks for GET). */
function matchesEtag(header: string | undefined, etags: readonly string[]): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => etags.includes(tag.trim().replace(/^W\//, '')));
}

/** Whether `Accept-Encoding` allows gzip (present and not `q=0`). */
function acceptsGzip(header: string | undefined): boolean {
  return (header ?? '').split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/**
 * `GET /widget.js`: the widget bundle for any page to load, so open to every origin (the API it calls is
 * what `WIDGET_ORIGINS` guards). Cached for `WIDGET_MAX_AGE` seconds, then revalidated by ETag (304);
 * gzipped for clients that accept it, with its own ETag.
 *
 * `GET /`: the demo page; `?lang=en` or `?lang=zh-CN` sets the widget's language.
 *
 * @example
 * app.route('/', createWidgetRoutes(await buildWidget()));
 */
export function createWidgetRoutes(bundle: Pick<WidgetBundle, 'code' | 'etag'>): Hono<AppEnv> {
  const plain = new TextEncoder().encode(bundle.code);
  const gzipped = gzipSync(plain, { level: 9 });
  const gzipEtag = bundle.etag.replace(/"$/, '-gz"');

  return new Hono<AppEnv>()
    .get('/widget.js', (c) => {
      const gzip = acceptsGzip(c.req.header('accept-encoding'));
      const headers: Record<string, string> = {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': `public, max-age=${WIDGET_MAX_AGE}`,
        ETag: gzip ? gzipEtag : bundle.etag,
        Vary: 'Accept-Encoding',
        'Access-Control-Allow-Origin': '*',
        // Pages that isolate themselves (COEP: require-corp) may still load it.
        'Cross-Origin-Resource-Policy': 'cross-origin',
        'X-Content-Type-Options': 'nosniff',
      };
      if (matchesEtag(c.req.header('if-none-match'), [bundle.etag, gzipEtag]))
        return c.body(null, 304, headers);
      if (gzip) headers['Content-Encoding'] = 'gzip';
      return c.body(gzip ? gzipped : plain, 200, headers);
    })
    .get('/', (c) => {
      const lang = c.req.query('lang');
      c.header('Cache-Control', 'no-cache');
      return c.html(
        demoPage({
          origin: new URL(c.req.url).origin,
          kb: DEMO_KB,
          lang: lang === 'en' || lang === 'zh-CN' ? lang : undefined,
        }),
      );
    });
}
