import { z } from 'zod';
import { InvalidRequestError, NotFoundError } from '../errors.ts';
import type { HistoryMessage } from '../shared/protocol.ts';
import { KNOWLEDGE_BASE_NAME } from '../store/store.ts';
import type { AskLimits } from './ask-schema.ts';
import { DEFAULT_MODEL, KB_MODEL_PREFIX } from './openai-shapes.ts';

/**
 * The `POST /v1/chat/completions` body we accept, and how it maps onto a question: `model` names the
 * knowledge base, the last message (a user's) is the question, earlier user and assistant messages are
 * the history, and system (or developer) messages are the client's instructions, added after the
 * service's system prompt. Fields we do not use (`max_tokens`, `tools`, …) are ignored, as other
 * OpenAI-compatible servers do.
 */

/** `content` as a string or as text parts (images and other parts are not understood by a knowledge base). */
const content = z.union(
  [z.string(), z.array(z.object({ type: z.string(), text: z.string().optional() })), z.null()],
  { error: 'expected a string or an array of text parts' },
);

function messagesSchema(limits: AskLimits) {
  return (
    z
      .array(
        z.object(
          {
            role: z.enum(['system', 'developer', 'user', 'assistant', 'tool'], {
              error: 'expected "system", "developer", "user", "assistant" or "tool"',
            }),
            content: content.optional(),
          },
          { error: 'expected an object with role and content' },
        ),
        { error: 'expected an array of messages' },
      )
      .min(1, { error: 'must contain at least one message' })
      // The history limit plus the question and a few system messages.
      .max(limits.maxHistoryMessages + 8, {
        error: `expected at most ${limits.maxHistoryMessages + 8} messages`,
      })
  );
}

/**
 * Builds the body schema once per app.
 *
 * @example
 * chatCompletionsSchema(limits).parse({ model: 'default', messages: [{ role: 'user', content: 'Hi' }] });
 */
export function chatCompletionsSchema(limits: AskLimits) {
  return z.object(
    {
      model: z.string({ error: 'expected a knowledge base: "default" or "kb:NAME"' }).trim().min(1),
      messages: messagesSchema(limits),
      stream: z.boolean({ error: 'expected true or false' }).nullish(),
      stream_options: z
        .object({ include_usage: z.boolean({ error: 'expected true or false' }).nullish() })
        .nullish(),
      temperature: z
        .number({ error: 'expected a number from 0 to 2' })
        .min(0, { error: 'expected a number from 0 to 2' })
        .max(2, { error: 'expected a number from 0 to 2' })
        .nullish(),
    },
    { error: 'expected a JSON object' },
  );
}

export type ChatCompletionsBody = z.output<ReturnType<typeof chatCompletionsSchema>>;

/** What the body asks, in the terms of `answerQuestion`. */
export interface ChatQuestion {
  kb: string;
  question: string;
  history: HistoryMessage[];
  /** The client's system messages joined, or undefined. */
  instructions: string | undefined;
}

function textOf(value: z.output<typeof content> | undefined): string {
  if (typeof value === 'string') return value;
  if (!value) return '';
  return value.flatMap((part) => (part.type === 'text' && part.text ? [part.text] : [])).join('\n');
}

/**
 * The knowledge base a `model` names: `default`, or `kb:NAME`.
 *
 * @throws NotFoundError for any other model name (OpenAI answers an unknown model with 404 too)
 * @example
 * kbOfModel('kb:hr') // 'hr'
 */
export function kbOfModel(model: string): string {
  if (model === DEFAULT_MODEL) return DEFAULT_MODEL;
  const name = model.startsWith(KB_MODEL_PREFIX) ? model.slice(KB_MODEL_PREFIX.length) : '';
  if (!KNOWLEDGE_BASE_NAME.test(name)) {
    throw new NotFoundError(
      `model "${model.slice(0, 80)}" not found: use "default" or "kb:NAME" (see GET /v1/models)`,
    );
  }
  return name;
}

/**
 * Splits the messages into question, history and instructions.
 *
 * @throws InvalidRequestError when the last message is not a non-empty user message, or the question is
 *   over `MAX_QUESTION_CHARS`
 * @example
 * chatQuestion(body, limits) // { kb: 'default', question: 'How do I back up?', history: [], instructions: undefined }
 */
export function chatQuestion(body: ChatCompletionsBody, limits: AskLimits): ChatQuestion {
  const last = body.messages.at(-1);
  const question = last?.role === 'user' ? textOf(last.content).trim() : '';
  if (!question) throw new InvalidRequestError('messages: the last message must be a non-empty user message');
  if (question.length > limits.maxQuestionChars) {
    throw new InvalidRequestError(
      `messages: the question must be at most ${limits.maxQuestionChars} characters`,
    );
  }
  const earlier = body.messages.slice(0, -1);
  const history: HistoryMessage[] = earlier.flatMap((m) =>
    m.role === 'user' || m.role === 'assistant' ? [{ role: m.role, content: textOf(m.content) }] : [],
  );
  const system = earlier
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => textOf(m.content).trim())
    .filter(Boolean);
  return {
    kb: kbOfModel(body.model),
    question,
    history,
    instructions: system.length > 0 ? system.join('\n\n') : undefined,
  };
}
