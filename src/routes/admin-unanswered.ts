import { Hono } from 'hono';
import { z } from 'zod';
import type { FeedbackStore } from '../feedback/feedback-store.ts';
import type { AppEnv } from './app-env.ts';

const querySchema = z.object({
  kb: z.string().min(1, { error: 'expected a knowledge base name' }).max(64).optional(),
  limit: z.coerce
    .number({ error: 'expected an integer from 1 to 1000' })
    .int({ error: 'expected an integer from 1 to 1000' })
    .min(1, { error: 'expected an integer from 1 to 1000' })
    .max(1000, { error: 'expected an integer from 1 to 1000' })
    .default(100),
  days: z.coerce
    .number({ error: 'expected a number of days from 1 to 3650' })
    .int({ error: 'expected a number of days from 1 to 3650' })
    .min(1, { error: 'expected a number of days from 1 to 3650' })
    .max(3650, { error: 'expected a number of days from 1 to 3650' })
    .optional(),
});

/** `days` back from `now`, as the ISO 8601 lower bound the store takes. */
export function sinceDays(days: number | undefined, now = Date.now()): string | undefined {
  return days === undefined ? undefined : new Date(now - days * 86_400_000).toISOString();
}

/**
 * `GET /admin/unanswered[?kb=NAME&limit=100&days=N]`: the questions that found nothing or got a
 * thumbs-down, grouped by normalised question, most frequent first: `{"questions":[UnansweredQuestion]}`.
 * Guarded, like every `/admin/*` route, by the access middleware (admin keys only).
 *
 * @example
 * app.route('/', createUnansweredRoute({ feedback }));
 */
export function createUnansweredRoute(deps: { feedback: FeedbackStore }): Hono<AppEnv> {
  return new Hono<AppEnv>().get('/admin/unanswered', (c) => {
    const query = querySchema.parse(c.req.query());
    const questions = deps.feedback.unanswered({
      kb: query.kb,
      limit: query.limit,
      since: sinceDays(query.days),
    });
    return c.json({ questions });
  });
}
