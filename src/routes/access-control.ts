import type { Context, MiddlewareHandler } from 'hono';
import type { AccessStore } from '../access/access-store.ts';
import { admit, limitsForKey, limitsForOpenClient, type AccessSettings } from '../access/admission.ts';
import { hashApiKey, type ApiKeyRecord } from '../access/api-key.ts';
import { assertKeyCoversKb, authorizeKey } from '../access/authorize.ts';
import { windowsAt } from '../access/windows.ts';
import { TooManyRequestsError, UnauthorizedError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { AppEnv } from './app-env.ts';

/**
 * Paths anyone may reach with or without keys: probes, the widget script, its demo page and the metrics
 * scrape. Every other path, existing or added later, needs a key once keys exist (deny by default).
 */
const PUBLIC_PATHS = new Set(['/', '/health', '/ready', '/widget.js', '/metrics']);

export interface AccessControlDeps {
  store: AccessStore;
  settings: AccessSettings;
  logger: Logger;
  /** The clock, in ms since the epoch; tests move it to cross a minute or a day. Default `Date.now`. */
  now?: () => number;
}

/** The peer address, or the first `X-Forwarded-For` entry behind a trusted proxy; `unknown` without a socket. */
function clientAddress(c: Context<AppEnv>, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** The secret of `Authorization: Bearer KEY` (the scheme is case-insensitive), or undefined. */
function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * The knowledge base a request names explicitly: `?kb=`, else a JSON body's `kb`. Only read for keys
 * limited to some knowledge bases. A body that is not JSON names none here; its route rejects it or
 * checks the knowledge base itself (`requireKnowledgeBase`).
 */
async function namedKnowledgeBase(c: Context<AppEnv>): Promise<string | undefined> {
  const fromQuery = c.req.query('kb');
  if (fromQuery !== undefined) return fromQuery;
  if (!['POST', 'PUT', 'PATCH'].includes(c.req.method)) return undefined;
  try {
    // Hono caches the body, so the route reads it again for free.
    const body = (await c.req.json()) as unknown;
    const kb = typeof body === 'object' && body !== null ? (body as { kb?: unknown }).kb : undefined;
    return typeof kb === 'string' ? kb : undefined;
  } catch {
    return undefined;
  }
}

function toAuthenticated(key: ApiKeyRecord): AppEnv['Variables']['apiKey'] {
  const { id, name, kind, tier, kbs, origins } = key;
  return { id, name, kind, tier, kbs, origins };
}

/** Counts the request, sending `Retry-After` with a 429. */
function admitOrRefuse(c: Context<AppEnv>, run: () => void): void {
  try {
    run();
  } catch (error) {
    if (error instanceof TooManyRequestsError) c.header('Retry-After', String(error.retryAfterSeconds));
    throw error;
  }
}

/**
 * Access control for every non-public route. With no API key in the store the service is open and each
 * client address is limited (`OPEN_IP_RPM`, `OPEN_IP_DAILY_LIMIT`). Once any key exists:
 * - no `Authorization: Bearer KEY`, or an unknown or revoked key: 401 `unauthorized`;
 * - `/admin/*` without an admin key, a widget key from another origin, a knowledge base the key does not
 *   cover: 403 `forbidden`;
 * - a used-up daily quota or per-minute limit: 429 `quota_exceeded` / `rate_limited` with `Retry-After`.
 * An admitted request is counted in the key's usage of the day, its tokens once its answer (or stream)
 * ends; the key is then `c.get('apiKey')` and its name is in the request's log line.
 *
 * @example
 * app.use(accessControl({ store: sqliteAccessStore(db), settings: config.access, logger }));
 */
export function accessControl(deps: AccessControlDeps): MiddlewareHandler<AppEnv> {
  const { store, settings, logger } = deps;
  const now = deps.now ?? Date.now;
  return async (c, next) => {
    // Preflights carry no credentials; CORS answers them.
    if (PUBLIC_PATHS.has(c.req.path) || c.req.method === 'OPTIONS') return next();
    const time = now();
    const client = clientAddress(c, settings.trustProxy);
    if (!store.hasKeys()) {
      admitOrRefuse(c, () => admit(store, limitsForOpenClient(client, settings, time), undefined, time));
      return next();
    }

    const token = bearerToken(c.req.header('authorization'));
    if (token === undefined)
      throw new UnauthorizedError('an API key is required: send Authorization: Bearer KEY');
    const key = store.findKeyByHash(hashApiKey(token));
    if (!key || key.revokedAt !== undefined) throw new UnauthorizedError('the API key is not valid');
    const log = c.get('requestLog');
    log.key = key.name;
    const kb = key.kbs.length > 0 ? await namedKnowledgeBase(c) : undefined;
    authorizeKey(key, { path: c.req.path, origin: c.req.header('origin'), kb });
    admitOrRefuse(c, () => admit(store, limitsForKey(key, client, settings, time), key, time));
    c.set('apiKey', toAuthenticated(key));

    await next();

    const day = windowsAt(time).day;
    const book = (): void => {
      const prompt = log.promptTokens ?? 0;
      const completion = log.completionTokens ?? 0;
      if (prompt === 0 && completion === 0) return;
      try {
        store.addTokens(key.id, day, prompt, completion);
      } catch (error) {
        logger.error('cannot record token usage', { requestId: c.get('requestId'), key: key.name, error });
      }
    };
    const done = c.get('responseDone');
    if (done) void done.then(book);
    else book();
  };
}

/**
 * For routes whose knowledge base is not named in the request as sent (a default, a stored
 * conversation's): throws 403 `forbidden` when the request's key does not cover `kb`. No-op without keys.
 *
 * @example
 * requireKnowledgeBase(c, ask.kb);
 */
export function requireKnowledgeBase(c: Context<AppEnv>, kb: string): void {
  const key = c.get('apiKey');
  if (key) assertKeyCoversKb(key, kb);
}
