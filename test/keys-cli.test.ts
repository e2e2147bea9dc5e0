import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/access/api-key.ts';
import { runKeysCli } from '../src/cli/keys.ts';
import { openSqliteDatabase } from '../src/store/sqlite.ts';
import { sqliteAccessStore } from '../src/store/sqlite-access.ts';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-keys-'));
  file = join(dir, 'kb.sqlite');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function keys(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runKeysCli(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: { KB_PATH: file },
  });
  return { code, stdout, stderr };
}

function withStore<T>(fn: (store: ReturnType<typeof sqliteAccessStore>) => T): T {
  const db = openSqliteDatabase(file);
  try {
    return fn(sqliteAccessStore(db));
  } finally {
    db.close();
  }
}

describe('npm run keys', () => {
  it('create prints the new key once on stdout and stores only its hash', async () => {
    const { code, stdout, stderr } = await keys('create', '--name', 'intranet', '--tier', 'basic');
    expect(code).toBe(0);
    const secret = stdout.trim();
    expect(secret).toMatch(/^kbk_[A-Za-z0-9_-]{43}$/);
    expect(stderr).toContain('shown only this once');
    withStore((store) => {
      expect(store.findKeyByHash(hashApiKey(secret))).toMatchObject({
        name: 'intranet',
        kind: 'server',
        tier: 'basic',
      });
    });
    expect(readFileSync(file).includes(secret)).toBe(false);
    expect((await keys('list')).stdout).not.toContain(secret);
  });

  it('create takes the kind, limits and scope; list shows them with the effective limits', async () => {
    await keys('create', '--name', 'ops', '--kind', 'admin', '--tier', 'premium');
    const widget = await keys(
      'create',
      '--name',
      'site',
      '--kind',
      'widget',
      '--daily-limit',
      '500',
      '--rpm',
      '5',
      '--kb',
      'hr,docs',
      '--origins',
      'https://a.example,https://B.example:8443',
    );
    expect(widget.code).toBe(0);
    const list = (await keys('list')).stdout;
    expect(list).toMatch(/ops\s+admin\s+premium\s+10000\s+300\s+\*\s+-/);
    expect(list).toMatch(
      /site\s+widget\s+free\s+500\s+5\s+hr,docs\s+https:\/\/a\.example,https:\/\/b\.example:8443/,
    );
  });

  it('refuses bad options with exit code 2 and the usage, naming every problem', async () => {
    const bad = await keys('create', '--name', 'w', '--kind', 'widget', '--rpm', '0', '--tier', 'gold');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--tier: one of free, basic, premium');
    expect(bad.stderr).toContain('--rpm: a whole number above 0');
    expect(bad.stderr).toContain('a widget key needs --origins');
    expect(bad.stderr).toContain('a widget key needs --kb');
    expect(bad.stderr).toContain('USAGE');
    expect((await keys('create', '--name', 'x', '--origins', 'https://a.example')).stderr).toContain(
      '--origins only applies to widget keys',
    );
    expect(
      (
        await keys(
          'create',
          '--name',
          'w',
          '--kind',
          'widget',
          '--kb',
          'a',
          '--origins',
          'https://a.example/path',
        )
      ).code,
    ).toBe(2);
    expect((await keys('rotate')).code).toBe(2);
    expect((await keys()).code).toBe(2);
    expect((await keys('create', '--name', 'x', '--bogus')).stderr).toContain('unknown option --bogus');
  });

  it('refuses a second key with the same name', async () => {
    await keys('create', '--name', 'intranet');
    const again = await keys('create', '--name', 'intranet');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already exists');
  });

  it('revoke NAME marks the key revoked; a second revoke fails', async () => {
    await keys('create', '--name', 'intranet');
    expect(await keys('revoke', 'intranet')).toMatchObject({ code: 0, stdout: 'revoked key "intranet"\n' });
    expect((await keys('list')).stdout).toMatch(/intranet .* revoked \d{4}-\d{2}-\d{2}/);
    expect((await keys('revoke', 'intranet')).code).toBe(1);
    expect((await keys('revoke')).code).toBe(2);
  });

  it('usage [NAME] shows requests and tokens per key and day with a total', async () => {
    await keys('create', '--name', 'a');
    await keys('create', '--name', 'b');
    const today = new Date().toISOString().slice(0, 10);
    withStore((store) => {
      for (const name of ['a', 'b']) {
        const key = store.getKey(name)!;
        store.consume([], { keyId: key.id, day: today });
        store.addTokens(key.id, today, 120, 30);
      }
    });
    const all = (await keys('usage')).stdout;
    expect(all).toMatch(new RegExp(`${today}\\s+a\\s+1\\s+120\\s+30`));
    expect(all).toMatch(/total\s+2\s+240\s+60/);
    const one = (await keys('usage', 'b')).stdout;
    expect(one).not.toMatch(/\sa\s/);
    expect((await keys('usage', 'ghost')).code).toBe(1);
  });
});
