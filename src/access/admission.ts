import type { Config } from '../config.ts';
import { TooManyRequestsError } from '../errors.ts';
import type { AccessStore, RateLimit } from './access-store.ts';
import { effectiveLimits, type ApiKeyRecord } from './api-key.ts';
import { secondsUntilReset, windowsAt } from './windows.ts';

/** The service-wide limits of `Config.access`. */
export type AccessSettings = Config['access'];

/**
 * The counters one request with `key` from `client` is counted against: the key's day and minute and, for
 * a widget key (public, shared by every visitor of a site), that visitor's minute too.
 *
 * @example
 * limitsForKey(key, '10.0.0.7', config.access, Date.now()); // [{ subject: 'key:3', period: 'day', … }, …]
 */
export function limitsForKey(
  key: ApiKeyRecord,
  client: string,
  settings: AccessSettings,
  now: number,
): RateLimit[] {
  const { minuteStart, dayStart } = windowsAt(now);
  const { daily, perMinute } = effectiveLimits(key);
  const limits: RateLimit[] = [
    { subject: `key:${key.id}`, period: 'day', windowStart: dayStart, limit: daily },
    { subject: `key:${key.id}`, period: 'minute', windowStart: minuteStart, limit: perMinute },
  ];
  if (key.kind === 'widget' && settings.widgetClientRpm > 0) {
    limits.push({
      subject: `key:${key.id}@${client}`,
      period: 'minute',
      windowStart: minuteStart,
      limit: settings.widgetClientRpm,
    });
  }
  return limits;
}

/**
 * The counters of a request from `client` while the service runs open (no keys); 0 settings are no limit.
 *
 * @example
 * limitsForOpenClient('10.0.0.7', { ...config.access, openIpRpm: 0 }, Date.now()); // the day's only
 */
export function limitsForOpenClient(client: string, settings: AccessSettings, now: number): RateLimit[] {
  const { minuteStart, dayStart } = windowsAt(now);
  const limits: RateLimit[] = [];
  if (settings.openIpDailyLimit > 0) {
    limits.push({
      subject: `ip:${client}`,
      period: 'day',
      windowStart: dayStart,
      limit: settings.openIpDailyLimit,
    });
  }
  if (settings.openIpRpm > 0) {
    limits.push({
      subject: `ip:${client}`,
      period: 'minute',
      windowStart: minuteStart,
      limit: settings.openIpRpm,
    });
  }
  return limits;
}

/**
 * Counts the request against `limits` (and in `key`'s usage of the day), or throws 429: `quota_exceeded`
 * when a daily limit is used up, `rate_limited` for a per-minute one, with the seconds until it resets.
 *
 * @example
 * admit(store, limitsForKey(key, '10.0.0.7', config.access, Date.now()), key, Date.now());
 */
export function admit(
  store: AccessStore,
  limits: readonly RateLimit[],
  key: ApiKeyRecord | undefined,
  now: number,
): void {
  const usage = key && { keyId: key.id, day: windowsAt(now).day };
  const full = store.consume(limits, usage);
  if (!full) return;
  const retryAfter = secondsUntilReset(full.period, full.windowStart, now);
  const who = !key
    ? 'this client'
    : full.subject.includes('@')
      ? `each visitor of the key "${key.name}"`
      : `the key "${key.name}"`;
  if (full.period === 'day') {
    throw new TooManyRequestsError(
      'quota_exceeded',
      `${who} has used its ${full.limit} requests for today (UTC); retry in ${retryAfter} s`,
      retryAfter,
    );
  }
  throw new TooManyRequestsError(
    'rate_limited',
    `${who} is limited to ${full.limit} requests a minute; retry in ${retryAfter} s`,
    retryAfter,
  );
}
