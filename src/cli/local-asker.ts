import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config.ts';
import { embedderFromConfig } from '../embed/from-config.ts';
import { chatModelFromConfig } from '../llm/from-config.ts';
import { answerQuestion } from '../rag/answer.ts';
import { openSqliteStore } from '../store/sqlite.ts';
import type { Asker, AskOptions } from './asker.ts';

/**
 * Answers from the local knowledge base, exactly as the server would with the same environment: the
 * configured embedder, and the chat model when `OPENAI_API_KEY` is set (extractive answers without).
 *
 * @throws ConfigError for a bad environment; Error when the embedder cannot be built
 * @example
 * const asker = localAsker(process.env, { kb: 'default' });
 * for await (const event of asker.ask({ question: 'How do I back up?', history: [] }, signal)) {}
 * asker.close();
 */
export function localAsker(env: Record<string, string | undefined>, options: AskOptions): Asker {
  const config = loadConfig(env);
  const embedder = embedderFromConfig(config);
  const chat = chatModelFromConfig(config);
  const store = openSqliteStore(config.kbPath);
  const deps = { store, embedder, chat, config };
  return {
    label: config.kbPath,
    ask(turn, signal) {
      return answerQuestion(
        deps,
        {
          id: randomUUID(),
          question: turn.question,
          history: turn.history,
          kb: options.kb,
          ...(options.model === undefined ? {} : { model: options.model }),
          ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
        },
        { signal },
      );
    },
    close: () => store.close(),
  };
}
