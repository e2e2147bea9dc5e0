import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runIngestCli } from '../ingest/cli.ts';

let dir: string;
let out: string;
let err: string;

function cli(argv: string[], env: Record<string, string> = {}) {
  out = '';
  err = '';
  return runIngestCli(argv, {
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
    env: { KB_PATH: join(dir, 'kb.sqlite'), ...env },
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-cli-'));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'a.md'), '# Alpha\n\nAlpha explains the first letter.\n');
  writeFileSync(join(dir, 'docs', 'b.txt'), 'Bravo explains the second letter.\n');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ingest CLI', () => {
  it('ingests a folder, prints one summary line and exits 0; a re-run changes nothing and exits 0', async () => {
    expect(await cli([join(dir, 'docs')])).toBe(0);
    expect(out).toMatch(/2 added, 0 changed, 0 unchanged, 0 deleted, 0 skipped, 0 failed/);
    expect(out).toMatch(/embedding requests/);
    expect(err).toMatch(/added\s+a\.md \(1 chunks\)/);
    expect(await cli([join(dir, 'docs')])).toBe(0);
    expect(out).toMatch(/0 added, 0 changed, 2 unchanged/);
  });

  it('--kb writes another knowledge base in the same file; --dry-run writes nothing', async () => {
    expect(await cli([join(dir, 'docs'), '--kb', 'hr', '--dry-run'])).toBe(0);
    expect(out).toMatch(/dry run, nothing written.*kb "hr".*2 added/);
    expect(await cli([join(dir, 'docs'), '--kb', 'hr'])).toBe(0);
    expect(out).toMatch(/kb "hr".*2 added/);
    expect(await cli([join(dir, 'docs'), '--kb', 'hr', '--rebuild'])).toBe(0);
    expect(out).toMatch(/2 added/);
  });

  it('a missing folder exits 1 with one line naming it', async () => {
    expect(await cli([join(dir, 'missing')])).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/no such folder: .*missing/);
  });

  it('a folder where every file fails exits 1 and lists the reasons', async () => {
    rmSync(join(dir, 'docs'), { recursive: true });
    mkdirSync(join(dir, 'docs'));
    writeFileSync(join(dir, 'docs', 'empty.md'), '');
    writeFileSync(join(dir, 'docs', 'broken.pdf'), 'not a pdf at all');
    expect(await cli([join(dir, 'docs')])).toBe(1);
    expect(out).toMatch(/0 added.*2 failed/);
    expect(out).toMatch(/failed: empty\.md: empty file/);
    expect(out).toMatch(/failed: broken\.pdf: /);
  });

  it('usage errors exit 2 and print the usage', async () => {
    expect(await cli([])).toBe(2);
    expect(err).toMatch(/Missing required positional argument: DIR/);
    expect(err).toMatch(/USAGE/);
    expect(await cli([join(dir, 'docs'), '--frobnicate'])).toBe(2);
    expect(err).toMatch(/unknown option --frobnicate/);
  });

  it('the openai embedder without a key is one clear line, not a stack trace', async () => {
    expect(await cli([join(dir, 'docs')], { EMBEDDING_PROVIDER: 'openai' })).toBe(1);
    expect(err.trim()).toBe(
      'ingest: EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY; set it, or use EMBEDDING_PROVIDER=local',
    );
  });

  it('invalid settings are all listed at once', async () => {
    expect(
      await cli([join(dir, 'docs')], { CHUNK_TOKENS: 'lots', PORT: '-1', EMBEDDING_PROVIDER: 'magic' }),
    ).toBe(1);
    expect(err).toMatch(/CHUNK_TOKENS/);
    expect(err).toMatch(/PORT/);
    expect(err).toMatch(/EMBEDDING_PROVIDER/);
  });
});
