import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ingestDirectory, type IngestOptions } from '../ingest/run.ts';
import { createLocalEmbedder } from '../src/embed/local.ts';
import { createOpenAIEmbedder } from '../src/embed/openai.ts';
import { EmbedderMismatchError } from '../src/errors.ts';
import { createOpenAIClient } from '../src/llm/client.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { startFakeOpenAI, type FakeOpenAI } from './fake-openai.ts';

/**
 * Ingest runs that must lose nothing and hide nothing: what the folder walk cannot read or leaves out,
 * files emptied since the last run, a --rebuild whose provider fails, a knowledge base left empty by a
 * failed first run, and a remote model whose vector length is only known from the knowledge base.
 */

let dir: string;
let docs: string;
let store: Store;

function run(overrides: Partial<IngestOptions> = {}) {
  return ingestDirectory({ dir: docs, kb: 'default', store, embedder: createLocalEmbedder(), ...overrides });
}

function paths(kb = 'default'): string[] {
  const found = store.getKnowledgeBase(kb);
  return found ? store.listDocuments(found.id).map((d) => d.path) : [];
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-ingest-safety-'));
  docs = join(dir, 'docs');
  mkdirSync(docs);
  writeFileSync(join(docs, 'backup.md'), '# Backups\n\nCopy data/kb.sqlite while the server is stopped.\n');
  writeFileSync(join(docs, 'install.md'), '# Installing\n\nRun npm install, then npm start.\n');
  writeFileSync(join(docs, 'faq.txt'), 'Where are logs kept? In /var/log/kb, rotated daily.\n');
  store = openSqliteStore(join(dir, 'kb.sqlite'));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the folder walk', () => {
  it('follows links to files and folders once, and reports hidden entries and broken links', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    writeFileSync(
      join(shared, 'restore.md'),
      '# Restoring\n\nStop the server, put the copy back, start it.\n',
    );
    symlinkSync(join(shared, 'restore.md'), join(docs, 'restore-link.md'));
    symlinkSync(shared, join(docs, 'shared'));
    // A loop: a link inside the folder back to the folder itself.
    symlinkSync(docs, join(docs, 'again'));
    symlinkSync(join(dir, 'gone.md'), join(docs, 'broken.md'));
    mkdirSync(join(docs, '.git'));
    writeFileSync(join(docs, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(join(docs, 'node_modules', 'pkg'), { recursive: true });
    writeFileSync(join(docs, 'node_modules', 'pkg', 'README.md'), '# A dependency\n');

    const events: { path: string; status: string; reason?: string }[] = [];
    const summary = await run({ onEvent: (e) => e.type === 'file' && events.push(e) });

    expect(paths().sort()).toEqual([
      'backup.md',
      'faq.txt',
      'install.md',
      'restore-link.md',
      'shared/restore.md',
    ]);
    expect(summary).toMatchObject({ added: 5, failed: 1, skipped: 3 });
    const report = (status: string) =>
      events.filter((e) => e.status === status).map((e) => [e.path, e.reason]);
    expect(report('skipped')).toEqual(
      expect.arrayContaining([
        ['.git', 'hidden'],
        ['node_modules', 'node_modules folder'],
        ['again', 'a link to a folder already ingested'],
      ]),
    );
    expect(report('failed')).toEqual([['broken.md', expect.stringMatching(/^broken symbolic link/)]]);
  });

  it('a folder that cannot be listed fails on its own: the rest is ingested and what it held stays', () => {
    mkdirSync(join(docs, 'locked'));
    writeFileSync(join(docs, 'locked', 'keys.md'), '# Key rotation\n\nRotate the admin key every quarter.\n');
    // Root reads any folder whatever its mode: as root, the command runs without the capabilities that
    // bypass permissions (setpriv is part of util-linux), so the mode counts as for anyone else.
    const root = process.getuid?.() === 0;
    const command = [process.execPath, '--import', 'tsx', 'ingest/main.ts', docs];
    const [program, ...args] = root
      ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--', ...command]
      : command;
    store.close();
    const ingest = () =>
      spawnSync(program!, args, {
        cwd: join(import.meta.dirname, '..'),
        env: {
          ...process.env,
          KB_PATH: join(dir, 'kb.sqlite'),
          EMBEDDING_PROVIDER: 'local',
          OPENAI_API_KEY: '',
        },
        encoding: 'utf8',
      });
    const first = ingest();
    // With stderr, so that a failure says why.
    expect({ status: first.status, stderr: first.stderr }).toMatchObject({ status: 0 });
    expect(first.stdout).toMatch(/4 added/);

    chmodSync(join(docs, 'locked'), 0);
    const second = ingest();
    chmodSync(join(docs, 'locked'), 0o755);
    expect({ status: second.status, stderr: second.stderr }).toMatchObject({ status: 0 });
    expect(second.stdout).toMatch(/0 added, 0 changed, 3 unchanged, 0 deleted, 0 skipped, 1 failed/);
    expect(second.stdout).toMatch(/failed: locked: .*(EACCES|permission denied)/);
    store = openSqliteStore(join(dir, 'kb.sqlite'));
    expect(paths()).toContain('locked/keys.md');
  });
});

describe('runs that must lose nothing', () => {
  it('an emptied file is reported as failed, and its old text leaves the knowledge base', async () => {
    await run();
    writeFileSync(join(docs, 'faq.txt'), '');
    const summary = await run();
    expect(summary.failures).toEqual([{ path: 'faq.txt', reason: 'empty file' }]);
    expect(paths()).toEqual(['backup.md', 'install.md']);
  });

  it('replacing documents leaves BM25 ranking as a fresh build gives it (the full-text index is rebuilt)', async () => {
    const topic = (n: number) => `# Topic ${n}\n\n${'Backups restore logs rotate keys. '.repeat(n + 1)}\n`;
    for (let n = 0; n < 12; n++) writeFileSync(join(docs, `topic-${n}.md`), topic(n));
    await run();
    // Every file edited: every chunk deleted from the index and added again.
    for (let n = 0; n < 12; n++) writeFileSync(join(docs, `topic-${n}.md`), `${topic(n)}\nEdited.\n`);
    expect(await run()).toMatchObject({ changed: 12, unchanged: 3 });
    await run({ kb: 'fresh' });

    const scores = (kb: string) => {
      const { id } = store.getKnowledgeBase(kb)!;
      const hits = store.searchText(id, 'restore keys', 20);
      const byId = new Map(store.getChunks(hits.map((h) => h.chunkId)).map((c) => [c.id, c.path]));
      return hits.map((h) => [byId.get(h.chunkId), h.score.toFixed(9)]).sort();
    };
    expect(scores('default')).toEqual(scores('fresh'));
  });

  describe('with a remote embedder', () => {
    let fake: FakeOpenAI;
    beforeEach(async () => {
      fake = await startFakeOpenAI({ embeddingDimensions: 8 });
    });
    afterEach(async () => {
      await fake.close();
    });
    const remote = (provider: FakeOpenAI = fake) =>
      createOpenAIEmbedder({
        client: createOpenAIClient({
          apiKey: 'sk-test',
          baseURL: provider.url,
          timeoutMs: 5000,
          maxRetries: 0,
        }),
        model: 'fake-embed',
        batchSize: 16,
        concurrency: 1,
      });

    it('a --rebuild whose provider fails leaves the old knowledge base answering, and nothing else behind', async () => {
      await run({ embedder: remote() });
      const before = store.getKnowledgeBase('default')!;
      // The probe of the vector length succeeds, then every request fails.
      fake.enqueue('embeddings', { delayMs: 0 }, { status: 500, times: Infinity });
      await expect(run({ embedder: remote(), rebuild: true })).rejects.toThrow();
      expect(store.listKnowledgeBases().map((kb) => kb.name)).toEqual(['default']);
      expect(store.getKnowledgeBase('default')).toMatchObject({ id: before.id, revision: before.revision });
      expect(store.searchText(before.id, 'logs rotated', 5)).not.toHaveLength(0);

      fake.reset();
      const rebuilt = await run({ embedder: remote(), rebuild: true });
      expect(rebuilt).toMatchObject({ added: 3, unchanged: 0, deleted: 0 });
      const after = store.getKnowledgeBase('default')!;
      expect(after.id).not.toBe(before.id);
      expect(after.settings).not.toHaveProperty('rebuildOf');
      expect(store.listKnowledgeBases().map((kb) => kb.name)).toEqual(['default']);
      expect(paths()).toEqual(['backup.md', 'faq.txt', 'install.md']);
      // Settings as an ordinary run leaves them: the next run has nothing to do.
      expect(await run({ embedder: remote() })).toMatchObject({ unchanged: 3, embeddingRequests: 0 });
    });

    it('a server that searched the old knowledge base finds the rebuilt one under the same name', async () => {
      await run();
      // Another connection, as the server has: it keeps per-knowledge-base indexes in memory.
      const server = openSqliteStore(join(dir, 'kb.sqlite'));
      try {
        const before = server.getKnowledgeBase('default')!;
        const [vector] = await createLocalEmbedder().embed(['logs rotated daily']);
        expect(server.searchVector(before.id, vector!, 3)).not.toHaveLength(0);
        expect(server.searchText(before.id, 'logs rotated', 3)).not.toHaveLength(0);

        writeFileSync(join(docs, 'faq.txt'), 'Where are logs kept? In /srv/logs, rotated weekly.\n');
        await run({ rebuild: true });
        const after = server.getKnowledgeBase('default')!;
        expect(after.id).not.toBe(before.id);
        const hits = server.getChunks(server.searchText(after.id, 'logs rotated', 3).map((h) => h.chunkId));
        expect(hits.map((c) => c.text)).toContain('Where are logs kept? In /srv/logs, rotated weekly.');
        expect(server.searchVector(after.id, vector!, 3)).not.toHaveLength(0);
        // The old id is gone, not searchable from memory.
        expect(() => server.searchVector(before.id, vector!, 3)).toThrow(/does not exist/);
      } finally {
        server.close();
      }
    });

    it('what a killed --rebuild left is removed by the next run of that knowledge base', async () => {
      await run();
      const info = { provider: 'local', model: 'x', dimensions: 384 };
      store.createKnowledgeBase('default.rebuild', info, { rebuildOf: 'default' });
      store.createKnowledgeBase('other.rebuild', info, { rebuildOf: 'other' });
      await run();
      expect(store.listKnowledgeBases().map((kb) => kb.name)).toEqual(['default', 'other.rebuild']);
    });

    it('a --rebuild is refused while a knowledge base of the staging name is in the way', async () => {
      await run();
      const info = { provider: 'local', model: 'x', dimensions: 384 };
      store.createKnowledgeBase('default.rebuild', info, {});
      await expect(run({ rebuild: true })).rejects.toThrow(/"default.rebuild" is in the way/);
      expect(store.getKnowledgeBase('default.rebuild')).toBeDefined();
      expect(paths()).toHaveLength(3);
    });

    it('a knowledge base left empty by a failed first run takes another embedder', async () => {
      fake.enqueue('embeddings', { delayMs: 0 }, { status: 500, times: Infinity });
      await expect(run({ embedder: remote(), concurrency: 1 })).rejects.toThrow();
      expect(store.getKnowledgeBase('default')?.embedder.provider).toBe('openai');
      const summary = await run();
      expect(summary.added).toBe(3);
      expect(store.getKnowledgeBase('default')!.embedder).toMatchObject({
        provider: 'local',
        dimensions: 384,
      });
    });

    it('an unknown model is not probed on a run with nothing to embed; vectors of another length stop the run', async () => {
      await run({ embedder: remote() });
      const requests = fake.requestsTo('embeddings').length;
      // A new embedder, as a new process has, does not know the length: the knowledge base does.
      expect(await run({ embedder: remote() })).toMatchObject({ unchanged: 3 });
      expect(await run({ embedder: remote(), dryRun: true })).toMatchObject({ unchanged: 3 });
      expect(fake.requestsTo('embeddings')).toHaveLength(requests);

      // The same model name now answering with 12 dimensions: refused as another embedder.
      const other = await startFakeOpenAI({ embeddingDimensions: 12 });
      try {
        writeFileSync(join(docs, 'faq.txt'), 'Logs are kept in /srv/logs now.\n');
        const attempt = run({ embedder: remote(other) });
        await expect(attempt).rejects.toBeInstanceOf(EmbedderMismatchError);
        await expect(attempt).rejects.toThrow(/\(8d\).*\(12d\).*--rebuild/s);
        expect(paths()).toEqual(['backup.md', 'faq.txt', 'install.md']);
      } finally {
        await other.close();
      }
    });
  });
});
