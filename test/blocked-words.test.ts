import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';
import { blockedWordTest } from '../src/text/blocked-words.ts';
import {
  createTestApp,
  expectError,
  openTestKnowledgeBase,
  postAsk,
  type TestKnowledgeBase,
} from './app-fixture.ts';

describe('blockedWordTest', () => {
  const blocked = blockedWordTest(['secret plan', '机密', 'ass'])!;

  it('matches Chinese words inside unbroken Chinese text', () => {
    expect(blocked('这份机密文件放在哪里')).toBe(true);
    expect(blocked('这份文件放在哪里')).toBe(false);
  });

  it('matches other words only as whole words, ignoring case and width', () => {
    expect(blocked('Where is the SECRET PLAN?')).toBe(true);
    expect(blocked('Ｓｅｃｒｅｔ ｐｌａｎ')).toBe(true);
    expect(blocked('Which class should I take?')).toBe(false);
    expect(blocked('an ass.')).toBe(true);
  });

  it('an empty list checks nothing', () => {
    expect(blockedWordTest(['', '  '])).toBeUndefined();
  });
});

describe('SENSITIVE_WORDS_FILE', () => {
  let kb: TestKnowledgeBase;
  let file: string;
  beforeAll(async () => {
    kb = await openTestKnowledgeBase();
    file = join(kb.dir, 'words.txt');
    writeFileSync(file, '# one word or phrase per line\n机密\n\nsecret plan\n');
  });
  afterAll(() => kb?.close());

  it('a question containing a listed word is refused with 400 content_blocked, before anything is searched', async () => {
    const { app, logLines } = createTestApp(kb, { env: { SENSITIVE_WORDS_FILE: file } });
    const error = await expectError(
      await postAsk(app, { question: '机密文件怎么备份？' }),
      400,
      'content_blocked',
    );
    expect(error.message).not.toContain('机密');
    await expectError(
      await postAsk(app, { question: 'And then?', history: [{ role: 'user', content: 'the secret plan' }] }),
      400,
      'content_blocked',
    );
    expect((await postAsk(app, { question: 'How do I back up the database?' })).status).toBe(200);
    expect(logLines.filter((l) => l.msg === 'request').map((l) => l.error)).toEqual([
      'content_blocked',
      'content_blocked',
      undefined,
    ]);
  });

  it('a missing file is a configuration error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-words-'));
    try {
      expect(() => loadConfig({ SENSITIVE_WORDS_FILE: join(dir, 'none.txt') }, { envFile: false })).toThrow(
        ConfigError,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
