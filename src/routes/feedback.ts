import { Hono } from 'hono';
import { z } from 'zod';
import { NotFoundError } from '../errors.ts';
import type { FeedbackStore } from '../feedback/feedback-store.ts';
import { requireKnowledgeBase } from './access-control.ts';
import type { AppEnv } from './app-env.ts';
import { readJson } from './read-json.ts';

/** Longest comment kept, in characters: enough for a sentence or two, not a document. */
export const MAX_COMMENT_CHARS = 2000;

const feedbackSchema = z.object(
  {
    answerId: z
      .string({ error: 'expected the id of an answer' })
      .trim()
      .min(1, { error: 'expected the id of an answer' })
      .max(128, { error: 'expected the id of an answer' }),
    rating: z.enum(['up', 'down'], { error: 'expected "up" or "down"' }),
    comment: z
      .string({ error: 'expected a string' })
      .trim()
      .max(MAX_COMMENT_CHARS, { error: `must be at most ${MAX_COMMENT_CHARS} characters` })
      .optional()
      .transform((v) => (v === '' ? undefined : v)),
  },
  { error: 'expected a JSON object' },
);

/**
 * `POST /feedback` `{"answerId","rating":"up"|"down","comment"?}`: 204 when recorded (a second rating of
 * the same answer replaces the first), 404 `not_found` for an answer this service never gave (or no longer
 * remembers), 403 `forbidden` when the request's key does not cover the answer's knowledge base.
 *
 * @example
 * app.route('/', createFeedbackRoute({ feedback }));
 */
export function createFeedbackRoute(deps: { feedback: FeedbackStore }): Hono<AppEnv> {
  return new Hono<AppEnv>().post('/feedback', async (c) => {
    const body = feedbackSchema.parse(await readJson(c));
    const kb = deps.feedback.answerKb(body.answerId);
    if (kb === undefined) throw new NotFoundError(`no answer with id "${body.answerId}"`);
    c.get('requestLog').kb = kb;
    requireKnowledgeBase(c, kb);
    // Deleted by retention since the lookup: as unknown as if it never existed.
    if (!deps.feedback.recordFeedback(body)) {
      throw new NotFoundError(`no answer with id "${body.answerId}"`);
    }
    c.get('requestLog').rating = body.rating;
    return c.body(null, 204);
  });
}
