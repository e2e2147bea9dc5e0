import type { Logger } from '../log.ts';
import type { ConversationStore } from './conversations.ts';

/** How often idle conversations are looked for after the first sweep at start. */
const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface ConversationRetentionOptions {
  conversations: Pick<ConversationStore, 'deleteIdleSince'>;
  /** `CONVERSATION_RETENTION_DAYS`: idle longer than this, a conversation is deleted. */
  retentionDays: number;
  logger: Logger;
  /** Between sweeps; default one hour. */
  intervalMs?: number;
  /** The clock, in ms since the epoch; default `Date.now`. */
  now?: () => number;
}

/**
 * Deletes conversations idle longer than the retention: once now (so a server that was down catches up)
 * and then every `intervalMs`. The timer does not keep the process alive. Returns a function that stops it.
 *
 * @example
 * const stop = startConversationRetention({ conversations, retentionDays: 30, logger });
 * // on shutdown: stop();
 */
export function startConversationRetention(options: ConversationRetentionOptions): () => void {
  const now = options.now ?? Date.now;
  const sweep = (): void => {
    try {
      const deleted = options.conversations.deleteIdleSince(new Date(now() - options.retentionDays * DAY_MS));
      if (deleted > 0)
        options.logger.info('conversations deleted', { deleted, retentionDays: options.retentionDays });
    } catch (error) {
      // A busy database now is no reason to stop the server; the next sweep tries again.
      options.logger.warn('conversation retention failed', { error });
    }
  };
  sweep();
  const timer = setInterval(sweep, options.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}
