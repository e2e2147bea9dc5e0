import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'ingest', 'bin.js');

let dir: string;

/**
 * Runs the `ingest` bin as a user's shell would: a fresh node process with pipes for stdout and stderr, and
 * an environment without the test runner's variables (citty leaves out colours when TEST or CI is set).
 */
function bin(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? '',
    KB_PATH: join(dir, 'kb.sqlite'),
    EMBEDDING_PROVIDER: 'local',
  };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...argv], { env, cwd: dir }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-bin-'));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'a.md'), '# Alpha\n\nAlpha explains the first letter.\n');
  writeFileSync(join(dir, 'docs', 'b.txt'), 'Bravo explains the second letter.\n');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the ingest bin', () => {
  it('ingests a folder, prints the summary line and exits 0', async () => {
    const run = await bin([join(dir, 'docs')]);
    expect(run.stderr).toMatch(/added\s+a\.md/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/kb\.sqlite, kb "default": 2 added, 0 changed, 0 unchanged, 0 deleted/);
  });

  it('without a folder exits 2 with the usage, in plain text on a pipe', async () => {
    const run = await bin([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Missing required positional argument: DIR/);
    expect(run.stderr).toMatch(/USAGE ingest \[OPTIONS\] <DIR>/);
    expect(run.stderr).not.toContain('\x1b');
  });
});
