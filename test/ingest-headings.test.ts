import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestDirectory, type IngestEvent } from '../ingest/run.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';

let dir: string;
let docs: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-headings-'));
  docs = join(dir, 'docs');
  mkdirSync(docs);
  store = openSqliteStore(join(dir, 'kb.sqlite'));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ingest() {
  const events: IngestEvent[] = [];
  const summary = await ingestDirectory({
    dir: docs,
    kb: 'default',
    store,
    embedder: createLocalEmbedder(),
    onEvent: (e) => events.push(e),
  });
  const kb = store.getKnowledgeBase('default')!;
  return { summary, events, kb };
}

describe('ingesting Markdown headings', () => {
  it('indexes a document of one heading as one chunk, and still skips a layout page with no text', async () => {
    writeFileSync(join(docs, 'release.md'), '# Release notes\n');
    writeFileSync(
      join(docs, 'index.md'),
      '---\nlayout: home\nhero:\n  name: Docs\n---\n\n<HomeHero />\n\n<script setup>\nconst x = 1\n</script>\n',
    );
    const { summary, events, kb } = await ingest();
    expect(summary).toMatchObject({ added: 1, skipped: 1, failed: 0, chunks: 1 });
    expect(events).toContainEqual({
      type: 'file',
      path: 'index.md',
      status: 'skipped',
      reason: 'no text to index',
    });
    const [hit] = store.searchText(kb.id, 'release notes', 5);
    const [chunk] = store.getChunks([hit!.chunkId]);
    expect(chunk).toMatchObject({
      path: 'release.md',
      title: 'Release notes',
      heading: '',
      text: 'Release notes',
    });
  });

  it('titles and splits a setext document as it would the same document written with #', async () => {
    writeFileSync(
      join(docs, 'guide.md'),
      'Install Guide\n=============\n\nIntro text.\n\nWindows\n-------\n\nSteps for Windows.\n',
    );
    const { summary, kb } = await ingest();
    expect(summary).toMatchObject({ added: 1, chunks: 2 });
    const [document] = store.listDocuments(kb.id);
    expect(document).toMatchObject({ path: 'guide.md', title: 'Install Guide' });
    const [hit] = store.searchText(kb.id, 'steps for windows', 5);
    expect(store.getChunks([hit!.chunkId])[0]).toMatchObject({
      heading: 'Install Guide > Windows',
      text: 'Steps for Windows.',
    });
  });
});
