/**
 * Fixed counting windows: UTC minutes and UTC days. Pure, so the limits can be tested at any instant.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export interface Windows {
  /** Start of the current minute, ms since the epoch. */
  minuteStart: number;
  /** Start of the current UTC day, ms since the epoch. */
  dayStart: number;
  /** The current UTC day, `YYYY-MM-DD`: the day usage is booked on. */
  day: string;
}

/**
 * The windows `now` falls in.
 *
 * @example
 * windowsAt(Date.parse('2026-01-02T03:04:05Z')).day; // '2026-01-02'
 */
export function windowsAt(now: number): Windows {
  const dayStart = now - (now % DAY_MS);
  return { minuteStart: now - (now % MINUTE_MS), dayStart, day: utcDay(now) };
}

/**
 * Whole seconds until the window that started at `windowStart` ends (at least 1): the `Retry-After`.
 *
 * @example
 * secondsUntilReset('minute', 0, 59_500); // 1
 */
export function secondsUntilReset(period: 'minute' | 'day', windowStart: number, now: number): number {
  const end = windowStart + (period === 'minute' ? MINUTE_MS : DAY_MS);
  return Math.max(1, Math.ceil((end - now) / 1000));
}

/**
 * The UTC day of an instant, `YYYY-MM-DD`.
 *
 * @example
 * utcDay(0); // '1970-01-01'
 */
export function utcDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/**
 * The day `days - 1` days before `time`, so `[daysBefore(now, 30), utcDay(now)]` spans 30 days.
 *
 * @example
 * daysBefore(Date.parse('2026-01-30T12:00:00Z'), 30); // '2026-01-01'
 */
export function daysBefore(time: number, days: number): string {
  return utcDay(time - (days - 1) * DAY_MS);
}
