import { defineCommand, parseArgs, renderUsage, type ArgsDef } from 'citty';
import type { Asker, AskOptions } from './asker.ts';
import { runAskSession, type SessionIO } from './ask-session.ts';
import { localAsker } from './local-asker.ts';
import { printAnswer } from './print-answer.ts';
import { remoteAsker } from './remote-asker.ts';

const args = {
  question: {
    type: 'positional',
    description: 'The question; without one, an interactive session starts',
    required: false,
  },
  kb: { type: 'string', description: 'Knowledge base name', default: 'default', valueHint: 'NAME' },
  model: {
    type: 'string',
    description: 'Chat model (one of ALLOWED_MODELS); default CHAT_MODEL',
    valueHint: 'MODEL',
  },
  temperature: {
    type: 'string',
    description: 'Sampling temperature, 0 to 2; default TEMPERATURE',
    valueHint: 'T',
  },
  url: {
    type: 'string',
    description: 'Ask a running service at this URL instead of the local knowledge base',
    valueHint: 'URL',
  },
  key: {
    type: 'string',
    description: 'API key for --url, sent as Authorization: Bearer KEY',
    valueHint: 'KEY',
  },
  json: { type: 'boolean', description: 'Print the response object as JSON instead of streaming text' },
} satisfies ArgsDef;

/** The command as data: `ask [QUESTION] [--kb NAME] [--model M] [--temperature T] [--url URL [--key KEY]] [--json]`. */
export const askCommand = defineCommand({
  meta: {
    name: 'ask',
    description: 'Ask the knowledge base a question, or start a conversation when no question is given.',
  },
  args,
});

export interface AskCliIO extends SessionIO {
  env: Record<string, string | undefined>;
  /** For `--url`; default the global `fetch`. */
  fetch?: typeof fetch;
}

const KNOWN_FLAGS = new Set(['_', ...Object.keys(args)]);

type Parsed = ReturnType<typeof parseArgs<typeof args>>;

/** Every usage problem at once, and the answer options when there are none. */
function validate(parsed: Parsed): { problems: string[]; options: AskOptions } {
  const problems = Object.keys(parsed)
    .filter((k) => !KNOWN_FLAGS.has(k))
    .map((k) => `unknown option --${k}`);
  if (typeof parsed.kb !== 'string' || parsed.kb === '') problems.push('--kb needs a name');
  if (parsed.model !== undefined && (typeof parsed.model !== 'string' || parsed.model.trim() === ''))
    problems.push('--model needs a name');
  const temperature = parsed.temperature === undefined ? undefined : Number(parsed.temperature);
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0 && temperature <= 2))
    problems.push('--temperature must be a number from 0 to 2');
  if (parsed.url !== undefined && !/^https?:\/\//i.test(String(parsed.url)))
    problems.push('--url must be an http:// or https:// URL');
  if (parsed.key !== undefined && parsed.url === undefined) problems.push('--key only applies with --url');
  const options: AskOptions = {
    kb: String(parsed.kb),
    ...(parsed.model === undefined ? {} : { model: String(parsed.model).trim() }),
    ...(temperature === undefined ? {} : { temperature }),
  };
  return { problems, options };
}

/** One-shot: Ctrl-C cancels the answer and exits 130, as a shell expects of an interrupted command. */
async function askOnce(asker: Asker, question: string, io: AskCliIO, json: boolean): Promise<number> {
  const controller = new AbortController();
  const cancel = (): void => controller.abort();
  io.signals?.on('SIGINT', cancel);
  try {
    const turn = { question, history: [] };
    const response = await printAnswer(asker, turn, io.stdout, { json, signal: controller.signal });
    return response ? 0 : 130;
  } finally {
    io.signals?.off('SIGINT', cancel);
  }
}

/**
 * Runs `ask` and returns the exit code: 0 after an answer (the not-found message included) or a session,
 * 1 when the question could not be answered (one line on stderr), 2 on usage errors, 130 when Ctrl-C
 * cancelled a one-shot answer. Nothing here touches `process`; `ask-main.ts` owns argv, the streams and
 * the exit code.
 *
 * @example
 * const code = await runAskCli(['How do I back up?', '--json'], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function runAskCli(argv: string[], io: AskCliIO): Promise<number> {
  const usage = async () => `${await renderUsage(askCommand)}\n`;
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(await usage());
    return 0;
  }
  let parsed: Parsed;
  try {
    parsed = parseArgs<typeof args>(argv, args);
  } catch (error) {
    io.stderr.write(`ask: ${error instanceof Error ? error.message : String(error)}\n\n${await usage()}`);
    return 2;
  }
  const { problems, options } = validate(parsed);
  if (problems.length > 0) {
    io.stderr.write(`ask: ${problems.join('; ')}\n\n${await usage()}`);
    return 2;
  }

  // Unquoted words are one question: `npm run ask -- how do I back up` works too.
  const question = parsed._.join(' ').trim();
  const json = Boolean(parsed.json);
  let asker: Asker | undefined;
  try {
    asker = parsed.url
      ? remoteAsker({
          ...options,
          url: String(parsed.url),
          ...(parsed.key ? { key: String(parsed.key) } : {}),
          ...(io.fetch ? { fetch: io.fetch } : {}),
        })
      : localAsker(io.env, options);
    return question ? await askOnce(asker, question, io, json) : await runAskSession(asker, io, { json });
  } catch (error) {
    io.stderr.write(`ask: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    asker?.close();
  }
}
