import { describe, expect, it } from 'vitest';
import { termCoverage } from '../src/rag/relevance.ts';

describe('termCoverage', () => {
  it('is the share of the question terms a passage contains, stems matching at word starts', () => {
    const coverage = termCoverage('How do I configure backups?');
    expect(coverage('Backup configuration lives in config.yaml.')).toBe(1);
    expect(coverage('Backups run nightly.')).toBe(0.5);
    // "figure" inside "configure" is not the word "figures".
    expect(termCoverage('figures')('configure it')).toBe(0);
  });

  it('counts CJK bigrams, so shared single characters alone do not make a passage relevant', () => {
    const coverage = termCoverage('如何重建知识库？');
    expect(coverage('用 --rebuild 重建知识库。')).toBeCloseTo(4 / 6);
    expect(coverage('库存和知道是两回事')).toBe(0);
  });

  it('a word start is any place not after a letter or digit, CJK characters ending words', () => {
    const coverage = termCoverage('cache');
    expect(coverage('caches and more')).toBe(1);
    expect(coverage('the (cache) and')).toBe(1);
    expect(coverage('使用cache缓存')).toBe(1);
    expect(coverage('precache only')).toBe(0);
    expect(coverage('écache, ωcache, 9cache')).toBe(0);
    // A letter outside the Basic Multilingual Plane (a surrogate pair) before the word.
    expect(coverage('\u{1D4B3}cache')).toBe(0);
    expect(coverage('😀cache')).toBe(1);
    // The first occurrence inside a word does not hide a later one at a word start.
    expect(coverage('precache, then cache')).toBe(1);
  });

  it('short words match whole words (or their inflections), not the start of longer ones', () => {
    expect(termCoverage('hi')('Trim the history to fit')).toBe(0);
    expect(termCoverage('hi')('Hi! Ask me about backups.')).toBe(1);
    expect(termCoverage('car')('it carries on with the rest')).toBe(0);
    expect(termCoverage('car')('two cars, one car')).toBe(1);
    expect(termCoverage('log')('where logs are kept')).toBe(1);
    expect(termCoverage('log')('logged in /var/log')).toBe(1);
    expect(termCoverage('log')('a logical step')).toBe(0);
    expect(termCoverage('api')('API keys')).toBe(1);
    expect(termCoverage('api')('用API密钥')).toBe(1);
    expect(termCoverage('api')('apiary')).toBe(0);
  });

  it('matches full-width Latin in passages like its half-width form', () => {
    expect(termCoverage('API key')('请在设置中填写 ＡＰＩ Ｋｅｙ')).toBe(1);
  });

  it('a question with no searchable terms covers nothing', () => {
    expect(termCoverage('the of ?')('anything at all')).toBe(0);
  });
});
