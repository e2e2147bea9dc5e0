import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { progressReporter } from '../ingest/progress.ts';
import { ingestDirectory } from '../ingest/run.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';

let root: string;
let docs: string;
let store: Store;

/** A stand-in for process.stderr: a terminal when `isTTY` is given, a pipe (no `isTTY` at all) otherwise. */
function output(isTTY?: true) {
  const out = { text: '', write: (text: string) => (out.text += text), ...(isTTY ? { isTTY } : {}) };
  return out;
}

/** A real ingest of `docs` with the local embedder, its events fed to a reporter writing to `out`. */
async function ingest(out: ReturnType<typeof output>, options: { dryRun?: boolean } = {}) {
  const reporter = progressReporter(out);
  return ingestDirectory({
    dir: docs,
    kb: 'default',
    store,
    embedder: createLocalEmbedder(),
    ...options,
    onEvent: reporter.onEvent,
  }).finally(reporter.finish);
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kb-progress-'));
  docs = join(root, 'docs');
  mkdirSync(docs);
  writeFileSync(join(docs, 'a.md'), '# Alpha\n\nAlpha explains the first letter.\n');
  writeFileSync(join(docs, 'b.txt'), 'Bravo explains the second letter.\n');
  writeFileSync(join(docs, 'empty.md'), '');
  store = openSqliteStore(join(root, 'kb.sqlite'));
});

afterEach(() => {
  store.close();
  rmSync(root, { recursive: true, force: true });
});

describe('ingest progress', () => {
  it('a pipe gets plain lines: the file count, then one line per file that was not unchanged', async () => {
    const first = output();
    await ingest(first);
    expect(first.text).not.toMatch(/[\r\x1b]/);
    const lines = first.text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines[0]).toBe('3 files found');
    expect(lines.slice(1).sort()).toEqual([
      'added     a.md (1 chunks)',
      'added     b.txt (1 chunks)',
      'failed    empty.md: empty file',
    ]);

    const again = output();
    await ingest(again);
    expect(again.text).toBe('3 files found\nfailed    empty.md: empty file\n');
  });

  it('a pipe is told when the run is a dry run', async () => {
    const out = output();
    const summary = await ingest(out, { dryRun: true });
    expect(summary.added).toBe(3);
    expect(out.text.split('\n')[0]).toBe('dry run: 3 files found');
    expect(out.text).toMatch(/^added {5}a\.md$/m);
  });

  it('a terminal gets one bar redrawn in place, failures above it, and a final line with the totals', async () => {
    // A hidden file the walk leaves out: it must not push the bar past its width.
    writeFileSync(join(docs, '.notes.md'), '# Hidden\n');
    const out = output(true);
    const summary = await ingest(out);
    expect(summary.embeddingRequests).toBeGreaterThan(0);

    const bars = [
      ...out.text.matchAll(
        /\r\[([#-]+)\] (\d+)\/(\d+) files · (\d+) chunks · (\d+) embedding requests\x1b\[K/g,
      ),
    ];
    expect(bars.length).toBeGreaterThan(0);
    for (const [, bar, done, total] of bars) {
      expect(bar).toHaveLength(24);
      expect(Number(done)).toBeLessThanOrEqual(Number(total));
    }
    const [last, bar, done, total, chunks, requests] = bars.at(-1)!;
    expect(bar).toBe('#'.repeat(24));
    expect(done).toBe(total);
    expect(Number(chunks)).toBe(summary.chunks);
    expect(Number(requests)).toBe(summary.embeddingRequests);
    // The bar's line is ended once, after the last drawing.
    expect(out.text.endsWith(`${last}\n`)).toBe(true);

    // Files that went well are counted in the bar, not listed; a failure gets its own cleared line.
    expect(out.text).not.toMatch(/added/);
    expect(out.text).toContain('\r\x1b[Kfailed    empty.md: empty file\n');
  });

  it('a terminal that saw no event gets nothing, not an empty bar', () => {
    const out = output(true);
    progressReporter(out).finish();
    expect(out.text).toBe('');
  });
});
