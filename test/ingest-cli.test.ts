import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
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

  it('a missing folder exits 1 with one line naming it, and creates no database', async () => {
    expect(await cli([join(dir, 'missing')])).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/no such folder: .*missing/);
    expect(readdirSync(dir)).toEqual(['docs']);
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

  it('--dry-run without a database reports every file as added and creates no file or folder', async () => {
    const kbPath = join(dir, 'not-yet', 'kb.sqlite');
    expect(await cli([join(dir, 'docs'), '--dry-run'], { KB_PATH: kbPath })).toBe(0);
    expect(out).toMatch(/dry run, nothing written.*2 added, 0 changed/);
    expect(existsSync(join(dir, 'not-yet'))).toBe(false);
  });

  it('--dry-run over a database reports the changes and leaves the database as it was', async () => {
    expect(await cli([join(dir, 'docs')])).toBe(0);
    writeFileSync(join(dir, 'docs', 'a.md'), '# Alpha\n\nAlpha now explains something else.\n');
    writeFileSync(join(dir, 'docs', 'c.md'), '# Charlie\n\nCharlie is new.\n');
    rmSync(join(dir, 'docs', 'b.txt'));
    const before = readFileSync(join(dir, 'kb.sqlite'));
    expect(await cli([join(dir, 'docs'), '--dry-run'])).toBe(0);
    expect(out).toMatch(/dry run, nothing written.*1 added, 1 changed, 0 unchanged, 1 deleted/);
    expect(readFileSync(join(dir, 'kb.sqlite')).equals(before)).toBe(true);
    // Nothing was written, so the real run still has all of it to do.
    expect(await cli([join(dir, 'docs')])).toBe(0);
    expect(out).toMatch(/1 added, 1 changed, 0 unchanged, 1 deleted/);
  });

  it('--dry-run of a missing folder exits 1 and creates no database', async () => {
    expect(await cli([join(dir, 'missing'), '--dry-run'])).toBe(1);
    expect(err).toMatch(/no such folder: .*missing/);
    expect(readdirSync(dir)).toEqual(['docs']);
  });

  it('--dry-run does not migrate an older database: one line says why, and the file is left alone', async () => {
    const old = new Database(join(dir, 'kb.sqlite'));
    old.pragma('user_version = 1');
    old.close();
    const before = readFileSync(join(dir, 'kb.sqlite'));
    expect(await cli([join(dir, 'docs'), '--dry-run'])).toBe(1);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(err).toMatch(/--dry-run only reads .*kb\.sqlite.*schema version 1, older .*to migrate it/);
    expect(readFileSync(join(dir, 'kb.sqlite')).equals(before)).toBe(true);
  });

  it('an invalid --kb name is a usage error, dry run or not, and opens no database', async () => {
    for (const argv of [
      [join(dir, 'docs'), '--kb', 'a b'],
      [join(dir, 'docs'), '--kb', 'a b', '--dry-run'],
      [join(dir, 'docs'), '--kb=.hidden'],
    ]) {
      expect(await cli(argv)).toBe(2);
      expect(err).toMatch(/--kb: invalid knowledge base name ".*": use 1 to 64 letters/);
      expect(err).toMatch(/USAGE/);
      expect(out).toBe('');
    }
    expect(readdirSync(dir)).toEqual(['docs']);
  });

  it('boolean flags take no value but true or false: anything else is a usage error', async () => {
    for (const flag of ['--rebuild=foo', '--dry-run=1', '--dry-run=0', '--dryRun=yes', '--rebuild=FALSE']) {
      expect(await cli([join(dir, 'docs'), flag])).toBe(2);
      expect(err).toContain(`${flag.split('=')[0]} takes no value, or =true or =false`);
      expect(err).toMatch(/USAGE/);
    }
    expect(readdirSync(dir)).toEqual(['docs']);
    expect(await cli([join(dir, 'docs')])).toBe(0);
    expect(await cli([join(dir, 'docs'), '--rebuild=false'])).toBe(0);
    expect(out).toMatch(/0 added, 0 changed, 2 unchanged/);
    expect(await cli([join(dir, 'docs'), '--rebuild=true'])).toBe(0);
    expect(out).toMatch(/2 added, 0 changed, 0 unchanged/);
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
