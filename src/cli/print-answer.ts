import type { AskResponse, Source } from '../shared/protocol.ts';
import { headingBelowTitle } from '../shared/source-heading.ts';
import type { Asker, AskTurn } from './asker.ts';

/** Where the CLI writes; `process.stdout` in production, a string collector in tests. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * The sources as a numbered list, one line each (plus the link when there is one), matching the `[n]`
 * markers of the answer. '' when there are none.
 *
 * @example
 * formatSources(response.sources); // 'Sources:\n  [1] Backups · backup.md\n'
 */
export function formatSources(sources: readonly Source[]): string {
  if (sources.length === 0) return '';
  const lines = sources.map((s) => {
    const where = `${s.path}${s.page === undefined ? '' : `, p. ${s.page}`}`;
    const title = [s.title, headingBelowTitle(s.title, s.heading).join(' > ')].filter(Boolean).join(' › ');
    return `  [${s.index}] ${title} · ${where}${s.url ? `\n      ${s.url}` : ''}\n`;
  });
  return `Sources:\n${lines.join('')}`;
}

/**
 * Asks one question and prints the answer: as it streams then its sources, or (`json`) the whole
 * response object once done. Returns the response, or `undefined` when `signal` cancelled the answer
 * (whatever was printed stays, followed by a note).
 *
 * @throws whatever the asker throws, except the abort it was asked for
 * @example
 * const response = await printAnswer(asker, { question, history: [] }, process.stdout, { json: false, signal });
 */
export async function printAnswer(
  asker: Asker,
  turn: AskTurn,
  out: Output,
  options: { json: boolean; signal: AbortSignal },
): Promise<AskResponse | undefined> {
  const { json, signal } = options;
  let printed = false;
  try {
    for await (const event of asker.ask(turn, signal)) {
      if (signal.aborted) break;
      if (event.type === 'delta' && !json) {
        out.write(event.text);
        printed = true;
      } else if (event.type === 'done') {
        const response = event.response;
        if (json) out.write(`${JSON.stringify(response, null, 2)}\n`);
        else out.write(`\n${response.found ? `\n${formatSources(response.sources)}` : ''}`);
        return response;
      }
    }
  } catch (error) {
    // A cancelled answer surfaces as an abort error from fetch or the SDK: that is the outcome asked for.
    if (!signal.aborted) throw error;
  }
  if (!signal.aborted) throw new Error('the answer ended without a done event');
  out.write(`${printed ? '\n' : ''}(cancelled)\n`);
  return undefined;
}
