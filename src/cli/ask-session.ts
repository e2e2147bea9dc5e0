import { createInterface } from 'node:readline';
import type { HistoryMessage, Source } from '../shared/protocol.ts';
import type { Asker } from './asker.ts';
import { formatSources, printAnswer, type Output } from './print-answer.ts';

/** What an interactive session reads and writes; `process` in production, streams in tests. */
export interface SessionIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: Output;
  stderr: Output;
  /** Ctrl-C as a signal (piped stdin); on a terminal readline reports Ctrl-C itself. */
  signals?: Interrupts;
}

/** The part of `process` the CLI listens on for Ctrl-C; tests pass an EventEmitter. */
export interface Interrupts {
  on(event: 'SIGINT', listener: () => void): unknown;
  off(event: 'SIGINT', listener: () => void): unknown;
}

const HELP = 'Type a question; /sources shows the last answer’s sources, /reset starts over, /exit quits.\n';

/**
 * An interactive conversation: each line is a question answered with the earlier turns as history,
 * or a command (`/reset`, `/sources`, `/exit`). Ctrl-C cancels the answer in progress; a second Ctrl-C
 * (before the next question) or end of input ends the session. A server's `conversationId` is sent back
 * with the next question, only when the server returned one. Errors print one line and the session
 * goes on. Returns the exit code (0).
 *
 * @example
 * await runAskSession(localAsker(process.env, { kb: 'default' }), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, signals: process }, { json: false });
 */
export async function runAskSession(
  asker: Asker,
  io: SessionIO,
  options: { json: boolean },
): Promise<number> {
  const terminal = Boolean(io.stdin.isTTY && io.stdout.isTTY);
  const rl = createInterface({
    input: io.stdin,
    ...(terminal ? { output: io.stdout as NodeJS.WritableStream, terminal: true } : { terminal: false }),
  });
  rl.setPrompt('> ');
  const prompt = (): void => {
    if (terminal) rl.prompt();
  };

  let history: HistoryMessage[] = [];
  let conversationId: string | undefined;
  let lastSources: Source[] | undefined;
  let current: AbortController | undefined;
  // Set by a Ctrl-C, cleared by the next question: a second Ctrl-C in between ends the session.
  let armed = false;

  const stop = (): void => {
    current?.abort();
    rl.close();
  };
  const interrupt = (): void => {
    if (armed) return stop();
    armed = true;
    if (current) return current.abort();
    io.stdout.write('\n(Ctrl-C again or /exit to quit)\n');
    prompt();
  };
  rl.on('SIGINT', interrupt);
  io.signals?.on('SIGINT', interrupt);

  io.stdout.write(`Asking ${asker.label}. ${HELP}`);
  prompt();
  try {
    for await (const raw of rl) {
      const line = raw.trim();
      if (line === '/exit' || line === '/quit') break;
      if (line === '/reset') {
        history = [];
        conversationId = undefined;
        lastSources = undefined;
        io.stdout.write('(conversation cleared)\n');
      } else if (line === '/sources') {
        io.stdout.write(
          lastSources
            ? formatSources(lastSources) || '(the last answer had no sources)\n'
            : '(no answer yet)\n',
        );
      } else if (line.startsWith('/')) {
        io.stdout.write(`unknown command ${line.split(/\s/)[0]}. ${HELP}`);
      } else if (line !== '') {
        armed = false;
        current = new AbortController();
        try {
          const turn = { question: line, history, ...(conversationId ? { conversationId } : {}) };
          const response = await printAnswer(asker, turn, io.stdout, {
            json: options.json,
            signal: current.signal,
          });
          if (response) {
            history = [
              ...history,
              { role: 'user', content: line },
              { role: 'assistant', content: response.answer },
            ];
            lastSources = response.sources;
            if (response.conversationId) conversationId = response.conversationId;
          }
        } catch (error) {
          io.stderr.write(`ask: ${error instanceof Error ? error.message : String(error)}\n`);
        } finally {
          current = undefined;
        }
      }
      prompt();
    }
  } finally {
    io.signals?.off('SIGINT', interrupt);
    rl.close();
  }
  return 0;
}
