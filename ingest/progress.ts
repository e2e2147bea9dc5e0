import type { IngestEvent } from './run.ts';

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressReporter {
  onEvent(event: IngestEvent): void;
  /** Ends the bar's line on a terminal; call once the run is over (also after an error). */
  finish(): void;
}

/**
 * Turns ingest events into output: on a terminal one bar redrawn in place (files, chunks, embedding
 * requests) with failures and deletions printed above it; elsewhere (CI logs, pipes) one plain line per file
 * that was not simply unchanged, so logs of re-runs stay short. Failures always come with their reason.
 *
 * @example
 * const progress = progressReporter(process.stderr);
 * await ingestDirectory({ ...options, onEvent: progress.onEvent }).finally(progress.finish);
 */
export function progressReporter(out: Output): ProgressReporter {
  let total = 0;
  let done = 0;
  let chunks = 0;
  let requests = 0;
  let lastDraw = 0;
  let drawn = false;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    drawn = true;
    const width = 24;
    // Entries the walk leaves out (hidden, unreadable) are reported as files too but are not in the start
    // event's count: the total grows to match rather than the bar overflowing.
    const of = Math.max(total, done);
    const filled = of === 0 ? width : Math.round((done / of) * width);
    out.write(
      `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${of} files · ${chunks} chunks · ` +
        `${requests} embedding requests\x1b[K`,
    );
  };
  const line = (status: string, path: string, detail: string) => `${status.padEnd(10)}${path}${detail}\n`;

  return {
    onEvent(event) {
      if (event.type === 'start') {
        total = event.files;
        if (!out.isTTY) out.write(`${event.dryRun ? 'dry run: ' : ''}${total} files found\n`);
        return;
      }
      if (event.type === 'embed') {
        requests += 1;
        if (out.isTTY) draw(false);
        return;
      }
      if (event.status !== 'deleted') done += 1;
      chunks += event.chunks ?? 0;
      const detail = event.reason ? `: ${event.reason}` : event.chunks ? ` (${event.chunks} chunks)` : '';
      if (!out.isTTY) {
        if (event.status !== 'unchanged') out.write(line(event.status, event.path, detail));
        return;
      }
      if (event.status === 'failed' || event.status === 'deleted') {
        out.write(`\r\x1b[K${line(event.status, event.path, detail)}`);
      }
      draw(done === total);
    },
    finish() {
      if (out.isTTY && drawn) {
        draw(true);
        out.write('\n');
      }
    },
  };
}
