import { ForbiddenError } from '../errors.ts';
import type { ApiKeyRecord } from './api-key.ts';

/** What a key's scope is checked against. */
export interface AccessRequest {
  /** The request path, e.g. `/ask` or `/admin/usage`. */
  path: string;
  /** The `Origin` header, when a browser sent one. */
  origin: string | undefined;
  /** The knowledge base asked, when the request names one. */
  kb: string | undefined;
}

/**
 * `scheme://host[:port]` as `URL` normalises it (lower case, default port dropped), or undefined.
 *
 * @example
 * normaliseOrigin('HTTPS://Intranet.example:443'); // 'https://intranet.example'
 */
export function normaliseOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Throws 403 `forbidden` unless the key may make this request: `/admin/*` needs an admin key; a widget key
 * is honoured only from a browser page at one of its origins; a key with knowledge bases listed covers only
 * those. The key is known to be valid and active.
 *
 * @example
 * authorizeKey(widgetKey, { path: '/ask', origin: 'https://evil.example', kb: 'default' }); // throws ForbiddenError
 */
export function authorizeKey(key: ApiKeyRecord, request: AccessRequest): void {
  if (isAdminPath(request.path) && key.kind !== 'admin') {
    throw new ForbiddenError(`the key "${key.name}" is not an admin key`);
  }
  if (key.kind === 'widget') {
    const origin = request.origin === undefined ? undefined : normaliseOrigin(request.origin);
    if (origin === undefined || !key.origins.includes(origin)) {
      throw new ForbiddenError(
        `the widget key "${key.name}" is only accepted from pages at its listed origins`,
      );
    }
  }
  if (request.kb !== undefined) assertKeyCoversKb(key, request.kb);
}

/**
 * Throws 403 `forbidden` when the key lists knowledge bases and `kb` is not one of them. Routes whose
 * knowledge base is not in the request (a stored conversation's) call it themselves.
 *
 * @example
 * assertKeyCoversKb({ name: 'hr-site', kbs: ['hr'] }, 'finance'); // throws ForbiddenError
 */
export function assertKeyCoversKb(key: Pick<ApiKeyRecord, 'name' | 'kbs'>, kb: string): void {
  if (key.kbs.length > 0 && !key.kbs.includes(kb)) {
    throw new ForbiddenError(`the key "${key.name}" does not cover the knowledge base "${kb}"`);
  }
}

/**
 * `/admin` and everything under it.
 *
 * @example
 * isAdminPath('/admin/usage'); // true
 */
export function isAdminPath(path: string): boolean {
  return path === '/admin' || path.startsWith('/admin/');
}
