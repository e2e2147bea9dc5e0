import { z } from 'zod';
import type { Config } from '../config.ts';
import { KNOWLEDGE_BASE_NAME } from '../store/store.ts';

/**
 * The `POST /ask` body as the server accepts it: the `AskRequest` of `src/shared/protocol.ts` with its
 * documented limits. Every message names the rule, never the value sent, so it is safe to show (the
 * error mapping prefixes the field path: `topK: expected an integer from 1 to 20`). Unknown keys are
 * dropped, so an older server accepts a newer widget's extra fields.
 */

/** Conversation ids are UUIDs; the rule keeps junk out of database lookups and error messages. */
const CONVERSATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A number rule with one message for every way to break it (wrong type, fraction, out of range). */
function numberIn(min: number, max: number, integer: boolean) {
  const error = integer
    ? `expected an integer from ${min} to ${max}`
    : `expected a number from ${min} to ${max}`;
  const base = z.number({ error }).min(min, { error }).max(max, { error });
  return integer ? base.int({ error }) : base;
}

/** The per-request limits of `Config.answer`. */
export type AskLimits = Pick<Config['answer'], 'maxQuestionChars' | 'maxHistoryMessages'>;

/**
 * Builds the schema once per app (the limits come from the configuration). Parsing trims `question` and
 * `model` and fills `kb` (`default`) and `history` (`[]`).
 *
 * @example
 * const schema = askRequestSchema({ maxQuestionChars: 4000, maxHistoryMessages: 200 });
 * schema.parse({ question: ' How do I install? ' }); // { question: 'How do I install?', kb: 'default', history: [] }
 */
export function askRequestSchema(limits: AskLimits) {
  const history = z.object(
    {
      role: z.enum(['user', 'assistant'], { error: 'expected "user" or "assistant"' }),
      content: z.string({ error: 'expected a string' }),
    },
    { error: 'expected an object with role and content' },
  );
  return z.object(
    {
      question: z
        .string({ error: 'expected a non-empty string' })
        .trim()
        .min(1, { error: 'must not be empty' })
        .max(limits.maxQuestionChars, { error: `must be at most ${limits.maxQuestionChars} characters` }),
      kb: z
        .string({ error: 'expected a string' })
        .regex(KNOWLEDGE_BASE_NAME, {
          error: 'expected 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit',
        })
        .default('default'),
      history: z
        .array(history, { error: 'expected an array of messages' })
        .max(limits.maxHistoryMessages, { error: `expected at most ${limits.maxHistoryMessages} messages` })
        .default([]),
      stream: z.boolean({ error: 'expected true or false' }).optional(),
      topK: numberIn(1, 20, true).optional(),
      temperature: numberIn(0, 2, false).optional(),
      model: z
        .string({ error: 'expected a non-empty string' })
        .trim()
        .min(1, { error: 'must not be empty' })
        .optional(),
      conversationId: z
        .string({ error: 'expected a conversation id' })
        .regex(CONVERSATION_ID, { error: 'expected a conversation id' })
        .optional(),
    },
    { error: 'expected a JSON object' },
  );
}

/** A validated `/ask` body. */
export type ValidAskRequest = z.output<ReturnType<typeof askRequestSchema>>;
