import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/errors.ts';

const none = { envFile: false } as const;

describe('loadConfig', () => {
  it('runs on documented defaults with an empty environment: local embedder, no key', () => {
    const config = loadConfig({}, none);
    expect(config.embedding.provider).toBe('local');
    expect(config.chat.model).toBe('gpt-4o-mini');
    expect(config.embedding.model).toBe('text-embedding-3-small');
    expect(config.kbPath).toBe('data/kb.sqlite');
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8787, maxBodyBytes: 65536 });
    expect(config.retrieval).toMatchObject({
      contextTokens: 3000,
      topK: 6,
      rrfK: 10,
      vectorWeight: 0.1,
      textWeight: 1,
    });
    expect(config.answer.maxTokens).toBe(800);
    expect(config.chat.timeoutMs).toBe(60000);
    expect(Object.isFrozen(config.chat)).toBe(true);
  });

  it('a key makes openai the default embedder, and OPENAI_API_BASE is an alias of OPENAI_BASE_URL', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-x', OPENAI_API_BASE: 'http://gw.example/v1' }, none);
    expect(config.embedding.provider).toBe('openai');
    expect(config.retrieval).toMatchObject({ rrfK: 60, vectorWeight: 1 });
    expect(config.openai.baseURL).toBe('http://gw.example/v1');
    expect(loadConfig({ OPENAI_API_KEY: 'sk-x', EMBEDDING_PROVIDER: 'local' }, none).embedding.provider).toBe(
      'local',
    );
  });

  it('lists every invalid key at once', () => {
    let error: unknown;
    try {
      loadConfig(
        { PORT: 'eighty', EMBEDDING_PROVIDER: 'magic', TOP_K: '0', OPENAI_BASE_URL: 'not a url' },
        none,
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.join('\n');
    for (const key of ['PORT', 'EMBEDDING_PROVIDER', 'TOP_K', 'OPENAI_BASE_URL'])
      expect(issues).toContain(key);
  });

  it('reads a .env file under the environment, which wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-config-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'PORT=9001\nCHAT_MODEL=from-file\nSTOP="###,END"\n');
    const config = loadConfig({ CHAT_MODEL: 'from-env' }, { envFile: file });
    expect(config.server.port).toBe(9001);
    expect(config.chat.model).toBe('from-env');
    expect(config.chat.stop).toEqual(['###', 'END']);
  });

  it('the committed .env.example is a valid configuration', () => {
    const config = loadConfig({}, { envFile: join(import.meta.dirname, '..', '.env.example') });
    expect(config.answer.notFound.en).toBe("I couldn't find this in the knowledge base.");
    expect(config.answer.notFound.zh).toBe('知识库中没有找到相关内容。');
  });
});
