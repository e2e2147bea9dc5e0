import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestDirectory } from '../ingest/run.ts';
import type { AskResponse } from '../src/shared/protocol.ts';
import { createTestApp, openTestKnowledgeBase, postAsk, type TestKnowledgeBase } from './app-fixture.ts';

/** The `snippet` of each source: the passage's start on one line, at most 240 characters. */

let kb: TestKnowledgeBase;
beforeAll(async () => {
  kb = await openTestKnowledgeBase();
  const long = Array.from({ length: 60 }, (_, i) => `Glacier 😀 step ${i}:\n\n  thaw   the ice.`).join(' ');
  writeFileSync(join(kb.dir, 'docs', 'glacier.md'), `# Glaciers\n\n${long}\n`);
  await ingestDirectory({ dir: join(kb.dir, 'docs'), kb: 'default', store: kb.store, embedder: kb.embedder });
});
afterAll(() => kb?.close());

async function sourcesFor(question: string) {
  const res = await postAsk(createTestApp(kb).app, { question });
  return ((await res.json()) as AskResponse).sources;
}

describe('source snippets', () => {
  it('a long passage is cut after 240 characters (an emoji counts as one) and marked with …', async () => {
    const [source] = await sourcesFor('How do I thaw the glacier ice?');
    expect(source!.path).toBe('glacier.md');
    const points = Array.from(source!.snippet);
    expect(points).toHaveLength(241);
    expect(points.at(-1)).toBe('…');
    expect(source!.snippet).not.toMatch(/\s{2}|\n/);
    expect(source!.snippet).toMatch(/^Glacier 😀 step 0: thaw the ice\. Glacier 😀 step 1:/);
    // Never half of a surrogate pair.
    expect(source!.snippet).not.toMatch(
      /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
    );
  });

  it('a short passage is shown whole, on one line, without …', async () => {
    const [source] = await sourcesFor('How do I back up the database?');
    expect(source!.snippet).toBe(
      'The database lives in data/kb.sqlite. To back up the database, copy that file while the server is stopped.',
    );
  });
});
