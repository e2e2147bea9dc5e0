import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { ForbiddenError } from '../errors.ts';

/**
 * Which browser pages may call the API (`WIDGET_ORIGINS`). A browser names the page's origin in the
 * `Origin` header of every cross-origin request (and of same-origin POSTs); requests without one (curl,
 * servers, the CLIs) are not browser calls and pass untouched.
 *
 * Allowed, besides the configured list:
 * - the service's own host (its demo page and the widget served with it). Only the host is compared, not
 *   the scheme: behind a TLS-terminating proxy the request URL says `http:` while the page says `https:`.
 * - loopback origins (`localhost`, `127.0.0.1`, `[::1]`, http or https, any port), for local development;
 *   a page there can only be opened by someone on the same machine.
 */

/** Host names that only ever reach this machine. `URL` lower-cases names and keeps IPv6 brackets. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `scheme://host[:port]` as `URL` normalises it (lower case, default port dropped), or undefined. */
function parseOrigin(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a browser page at `origin` may call the API.
 *
 * @param origin the request's `Origin` header (`null` from sandboxed frames and `file:` pages is refused)
 * @param requestUrl the request's own URL, which tells the service's host
 * @param allowed configured origins (`WIDGET_ORIGINS`), compared after normalisation
 * @example
 * isAllowedOrigin('https://intranet.example', 'https://kb.example/ask', ['https://intranet.example']); // true
 * isAllowedOrigin('http://localhost:5173', 'https://kb.example/ask', []); // true: loopback
 * isAllowedOrigin('https://evil.example', 'https://kb.example/ask', []); // false
 */
export function isAllowedOrigin(origin: string, requestUrl: string, allowed: readonly string[]): boolean {
  const page = parseOrigin(origin);
  if (!page) return false;
  if (LOOPBACK_HOSTS.has(page.hostname)) return true;
  if (page.host === parseOrigin(requestUrl)?.host) return true;
  return allowed.some((entry) => parseOrigin(entry)?.origin === page.origin);
}

export interface BrowserAccessOptions {
  /** Origins allowed besides the service's own and loopback ones: `Config.widgetOrigins`. */
  allowedOrigins: readonly string[];
}

/** How long a browser may reuse a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE = 600;

/**
 * Middleware for the API routes called from browsers (`/ask`). A request whose `Origin` is not allowed
 * (see `isAllowedOrigin`) is refused with 403 `forbidden`, preflight included, before any work is done.
 * Allowed ones get their CORS headers from `hono/cors`: preflights are answered with 204, `Content-Type`
 * and `Authorization` (the widget's `data-key`) may be sent, and `X-Request-Id` may be read. No
 * credentials: the widget sends no cookies.
 *
 * @example
 * app.use('/ask', browserAccess({ allowedOrigins: config.widgetOrigins }));
 */
export function browserAccess(options: BrowserAccessOptions): MiddlewareHandler {
  const allowed = [...options.allowedOrigins];
  const headers = cors({
    // Reached only for allowed origins (or none): echo the origin back.
    origin: (origin) => origin || null,
    allowMethods: ['POST', 'OPTIONS'],
    allowHeaders: ['Content-Type', 'Authorization', 'X-Request-Id'],
    exposeHeaders: ['X-Request-Id'],
    maxAge: PREFLIGHT_MAX_AGE,
  });
  return (c, next) => {
    const origin = c.req.header('origin');
    if (origin !== undefined && !isAllowedOrigin(origin, c.req.url, allowed)) {
      // The message names only what the caller sent, plus the setting an operator needs.
      const shown = origin.length > 100 ? `${origin.slice(0, 100)}…` : origin;
      throw new ForbiddenError(
        `pages from ${shown} may not call this service; add the origin to WIDGET_ORIGINS`,
      );
    }
    return headers(c, next);
  };
}
