import type { Logger } from '../log.ts';

/** How often old records are looked for after the first sweep at start. */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

/** One kind of record kept for a limited time. */
export interface RetentionRule {
  /** What is deleted, for the log line ("conversations", "asked questions"). */
  what: string;
  /** Records older than this many days go (`CONVERSATION_RETENTION_DAYS`, `QUESTION_RETENTION_DAYS`). */
  retentionDays: number;
  /** Deletes the records older than `cutoff`; returns how many. */
  deleteBefore: (cutoff: Date) => number;
}

export interface RetentionOptions {
  rules: readonly RetentionRule[];
  logger: Logger;
  /** Between sweeps; default one hour. */
  intervalMs?: number;
  /** The clock, in ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/**
 * Applies each rule once now (so a server that was down catches up) and then every `intervalMs`. A rule
 * that fails (a busy database) is logged and tried again at the next sweep; the others still run. The
 * timer does not keep the process alive. Returns a function that stops it.
 *
 * @example
 * const stop = startRetention({
 *   rules: [{ what: 'conversations', retentionDays: 30, deleteBefore: (d) => conversations.deleteIdleSince(d) }],
 *   logger,
 * });
 * // on shutdown: stop();
 */
export function startRetention(options: RetentionOptions): () => void {
  const now = options.now ?? Date.now;
  const sweep = (): void => {
    for (const rule of options.rules) {
      try {
        const deleted = rule.deleteBefore(new Date(now() - rule.retentionDays * DAY_MS));
        if (deleted > 0) {
          options.logger.info(`${rule.what} deleted`, { deleted, retentionDays: rule.retentionDays });
        }
      } catch (error) {
        options.logger.warn(`${rule.what} retention failed`, { error });
      }
    }
  };
  sweep();
  const timer = setInterval(sweep, options.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
