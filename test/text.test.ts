import { countTokens as referenceCl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens as referenceO200k, decode, encode } from 'gpt-tokenizer/encoding/o200k_base';
import { O200K_TOKEN_SPLIT_REGEX } from 'gpt-tokenizer/encodingParams/constants';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BytePairEncoder, type RankTable } from '../src/text/bpe.ts';
import { detectLanguage } from '../src/text/language.ts';
import { orExpression } from '../src/store/text-search.ts';
import { queryTerms, segmentForIndex } from '../src/text/segment.ts';
import {
  countJoined,
  countTokens,
  measureTokens,
  tokenCounterFor,
  truncateToTokens,
  type MeasuredText,
} from '../src/text/tokens.ts';
import { o200kAsciiPieceEnd } from '../src/text/pretokenize.ts';
import { cacheFileFor, decodeTables, encodeTables } from '../src/text/vocab-cache.ts';
import { prng } from './prng.ts';

/** Fragments that exercise every branch of the pre-tokenizer patterns and of byte-level merging. */
const FRAGMENTS = [
  ...['a', 'the', ' the', 'Hello', 'WORLD', 'camelCase', 'don', "'t", "'s", "'LL", "'re", 'é', 'ß', 'naïve'],
  ...[' ', '  ', '\t', '\n', '\n\n', '\r\n', '   \n', '\u00a0', '\u3000'],
  ...[
    '.',
    ',',
    '!?',
    '...',
    '…',
    '"',
    "'",
    '//',
    '/*',
    '```',
    '|',
    '---',
    '=>',
    '(){}',
    '#',
    '。',
    '，',
    '！',
  ],
  ...['1', '23', '456', '7890', '3.14', '１２３'],
  ...[
    '的',
    '知识库',
    '这是一个测试',
    '鿕',
    '𠀀𪛖',
    'プロキシ',
    'ー',
    'の',
    '한국어',
    'Привет',
    'مرحبا',
    'हिन्दी',
  ],
  ...['😀', '👩‍💻', '🇨🇳', '\uD800', '<|endoftext|>', '<|im_start|>'],
];

function randomText(rng: () => number, pieces: number): string {
  let text = '';
  for (let i = 0; i < pieces; i++) text += FRAGMENTS[Math.floor(rng() * FRAGMENTS.length)];
  return text;
}

const allowSpecialAsText = { disallowedSpecial: new Set<string>() };

describe('countTokens', () => {
  it('agrees with gpt-tokenizer o200k_base on varied text', () => {
    const samples = [
      'Hello, world!',
      'How do I configure the proxy on Windows? Set HTTPS_PROXY, then restart.',
      '如何在 Windows 上配置代理？设置 HTTPS_PROXY 环境变量，然后重启服务。',
      'プロキシの設定方法を教えてください。',
      'const x = await fetch(`${base}/api?q=1`); // fetch it\n\tif (!x.ok) throw new Error("bad");',
      '| a | b |\n| --- | --- |\n| 1 | 2 |',
      "It's what they'd've WANTED, isn't it?",
      ' '.repeat(50) + 'x' + '\n'.repeat(10),
    ];
    for (const text of samples) expect(countTokens(text)).toBe(referenceO200k(text));
    const rng = prng(1);
    for (let i = 0; i < 2000; i++) {
      const text = randomText(rng, 1 + Math.floor(rng() * 40));
      expect(countTokens(text), JSON.stringify(text)).toBe(referenceO200k(text, allowSpecialAsText));
    }
  });

  it('agrees on long unpunctuated CJK runs, which take the heap path, and stays fast on them', () => {
    const rng = prng(2);
    const han =
      '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定';
    let text = '';
    for (let i = 0; i < 3000; i++) text += han[Math.floor(rng() * han.length)];
    expect(countTokens(text)).toBe(referenceO200k(text));
    const started = performance.now();
    countTokens(text.repeat(30)); // one 90,000-character pre-token: quadratic merging would take minutes
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('counts special-token strings as plain text instead of throwing', () => {
    expect(countTokens('before <|endoftext|> after')).toBe(
      referenceO200k('before <|endoftext|> after', allowSpecialAsText),
    );
    expect(countTokens('')).toBe(0);
  });
});

describe('o200kAsciiPieceEnd', () => {
  it('splits exactly like the o200k_base pattern wherever it decides, and decides most ASCII', () => {
    const pattern = new RegExp(O200K_TOKEN_SPLIT_REGEX.source, 'uy');
    const alphabet = [
      ...'aZqQ09 \t\n\r\v\f\'sSdDlLvVeErRmMtT.,;:/()-_*#|`~!?"<>\x00',
      ...[' ', ' ', 'x', 'y', 'AB', '\n\n', "'ll", "'VE", "'re", '//', 'é', '中', '\u00a0', '\u3000'],
      ...['\u0301', '１', '…', '\u02b0', 'ǅ', '\uD83D\uDE00', '\uD800'],
    ];
    const rng = prng(4);
    let decided = 0;
    let pieces = 0;
    for (let n = 0; n < 5000; n++) {
      let text = '';
      for (let k = 1 + Math.floor(rng() * 30); k > 0; k--)
        text += alphabet[Math.floor(rng() * alphabet.length)];
      for (let pos = 0; pos < text.length;) {
        pattern.lastIndex = pos;
        expect(pattern.test(text), JSON.stringify(text)).toBe(true);
        const end = pattern.lastIndex;
        const fast = o200kAsciiPieceEnd(text, pos);
        if (fast >= 0) {
          expect(fast, `${JSON.stringify(text)} at ${pos}`).toBe(end);
          decided++;
        }
        pieces++;
        pos = end;
      }
    }
    expect(decided / pieces).toBeGreaterThan(0.5);
    expect(o200kAsciiPieceEnd('abc', 3)).toBe(-1);
  });
});

describe('vocabulary cache', () => {
  it('gives back tables that count exactly like the encoder built from the rank table', () => {
    const require = createRequire(import.meta.url);
    const ranks = (require('gpt-tokenizer/cjs/bpeRanks/o200k_base') as { default: RankTable }).default;
    const built = new BytePairEncoder(ranks);
    const file = encodeTables(built.tables());
    const decoded = decodeTables(file)!;
    // Whole-table comparisons as bytes and entries: toEqual on 2 million int32s takes seconds.
    const bytesOf = (a: Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(bytesOf(decoded.pairs).equals(bytesOf(built.tables().pairs))).toBe(true);
    expect(bytesOf(decoded.packed).equals(bytesOf(built.tables().packed))).toBe(true);
    expect(decoded.long.size).toBe(built.tables().long.size);
    for (const [key, rank] of built.tables().long) expect(decoded.long.get(key) === rank, key).toBe(true);
    // Read back from a buffer that does not start on a 4-byte boundary, as a pooled Buffer may.
    const shifted = new Uint8Array(file.byteLength + 1).subarray(1);
    shifted.set(file);
    const cached = new BytePairEncoder(decodeTables(shifted)!);
    const rng = prng(3);
    const pattern = /\S+|\s+/g;
    for (let i = 0; i < 500; i++) {
      for (const [piece] of randomText(rng, 1 + Math.floor(rng() * 40)).matchAll(pattern)) {
        expect(cached.tokensIn(piece), JSON.stringify(piece)).toBe(built.tokensIn(piece));
      }
    }
    expect(cached.tokensIn(' '.repeat(40) + 'x'.repeat(300))).toBe(
      built.tokensIn(' '.repeat(40) + 'x'.repeat(300)),
    );
  });

  it('refuses a truncated or foreign file instead of counting with it', () => {
    expect(decodeTables(new Uint8Array(100))).toBeUndefined();
    const tables = {
      pairs: new Int32Array(65536),
      packed: new Int32Array(16),
      long: new Map([['abcdefghijkl', 7]]),
    };
    const file = encodeTables(tables);
    expect(decodeTables(file)?.long.get('abcdefghijkl')).toBe(7);
    expect(decodeTables(file.subarray(0, file.length - 1))).toBeUndefined();
  });

  it('is kept beside the gpt-tokenizer it was built from, named after its rank file', () => {
    const require = createRequire(import.meta.url);
    const ranksPath = require.resolve('gpt-tokenizer/cjs/bpeRanks/o200k_base');
    const file = cacheFileFor(ranksPath, 'o200k_base')!;
    expect(
      file.startsWith(join(ranksPath.slice(0, ranksPath.lastIndexOf('node_modules') + 12), '.cache')),
    ).toBe(true);
    expect(file).toMatch(/o200k_base-\d+-\d+-v\d+\.bin$/);
    expect(cacheFileFor('/somewhere/else/o200k_base.js', 'o200k_base')).toBeUndefined();
  });
});

describe('countJoined', () => {
  it('equals countTokens of the joined text for any mix of measured texts and strings', () => {
    const rng = prng(3);
    const separators = ['', ' ', '\n', '\n\n', "'", 's', '1', '。', '\n```\n'];
    for (let i = 0; i < 3000; i++) {
      const parts: (MeasuredText | string)[] = [];
      const n = 1 + Math.floor(rng() * 6);
      for (let k = 0; k < n; k++) {
        const text = randomText(rng, 1 + Math.floor(rng() * 40));
        parts.push(rng() < 0.75 ? measureTokens(text) : text);
        if (rng() < 0.6) parts.push(separators[Math.floor(rng() * separators.length)]!);
      }
      const joined = parts.map((p) => (typeof p === 'string' ? p : p.text)).join('');
      expect(countJoined(parts), JSON.stringify(joined)).toBe(countTokens(joined));
    }
  });

  it('measures a text with the same count as countTokens', () => {
    const measured = measureTokens('First sentence. Second one!');
    expect(measured.tokens).toBe(countTokens('First sentence. Second one!'));
    expect(measured.text).toBe('First sentence. Second one!');
  });
});

describe('tokenCounterFor', () => {
  const text = 'Token budgets differ between encodings: 知识库 and emoji 😀 included.';

  it('uses o200k_base for the GPT-4o, GPT-4.1, GPT-5 and o-series families and for unknown models', () => {
    for (const model of [
      'gpt-4o',
      'gpt-4o-mini',
      'gpt-4.1-nano',
      'gpt-5',
      'o1-mini',
      'o3',
      'o4-mini',
      'openai/gpt-4o',
      'qwen2.5-7b-instruct',
      'llama3',
    ]) {
      expect(tokenCounterFor(model)(text)).toBe(countTokens(text));
    }
  });

  it('uses cl100k_base for GPT-4, GPT-3.5 and the OpenAI embedding models', () => {
    for (const model of ['gpt-4', 'gpt-4-turbo', 'gpt-4-0613', 'gpt-3.5-turbo', 'text-embedding-3-small']) {
      expect(tokenCounterFor(model)(text)).toBe(referenceCl100k(text));
    }
    const rng = prng(4);
    const count = tokenCounterFor('gpt-4');
    for (let i = 0; i < 500; i++) {
      const sample = randomText(rng, 1 + Math.floor(rng() * 30));
      expect(count(sample), JSON.stringify(sample)).toBe(referenceCl100k(sample, allowSpecialAsText));
    }
  });

  it('shares one counter per encoding', () => {
    expect(tokenCounterFor('gpt-4o')).toBe(tokenCounterFor('gpt-5-mini'));
    expect(tokenCounterFor('gpt-4')).toBe(tokenCounterFor('gpt-3.5-turbo'));
    expect(tokenCounterFor('gpt-4')).not.toBe(tokenCounterFor('gpt-4o'));
  });
});

describe('truncateToTokens', () => {
  it('returns the longest prefix within the limit, cut at a token boundary', () => {
    expect(truncateToTokens('Hello, world!', 2)).toBe('Hello,');
    expect(truncateToTokens('Hello, world!', 100)).toBe('Hello, world!');
    expect(truncateToTokens('Hello, world!', 0)).toBe('');
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(5);
    const tokens = encode(text);
    for (let n = 1; n < tokens.length; n += 3)
      expect(truncateToTokens(text, n)).toBe(decode(tokens.slice(0, n)));
  });

  it('never cuts inside a character, whatever the limit', () => {
    const samples = [
      '😀👩‍💻🇨🇳 emoji',
      '鿕𠀀𪛖 rare Han',
      'naïve café ß',
      '知识库的使用方法。'.repeat(4),
      'プロキシの設定',
    ];
    for (const text of samples) {
      for (let n = 0; n <= countTokens(text) + 1; n++) {
        const prefix = truncateToTokens(text, n);
        expect(text.startsWith(prefix)).toBe(true);
        expect(prefix).not.toContain('\uFFFD');
        expect(/[\uD800-\uDBFF]$/.test(prefix)).toBe(false); // no half of a surrogate pair
        expect(countTokens(prefix)).toBeLessThanOrEqual(n);
      }
    }
  });
});

describe('detectLanguage', () => {
  it('tells Chinese, Japanese and English questions apart, including mixed ones', () => {
    expect(detectLanguage('如何配置代理？')).toBe('zh');
    expect(detectLanguage('ref 和 reactive 有什么区别？')).toBe('zh');
    expect(detectLanguage('使用 TypeScript 和 defineComponent 定义组件')).toBe('zh');
    expect(detectLanguage('如何在 Vue 3 中使用 composition API?')).toBe('zh');
    expect(detectLanguage('プロキシの設定方法は？')).toBe('ja');
    expect(detectLanguage('Vueのコンポーネントを教えて')).toBe('ja');
    expect(detectLanguage('How do I configure the proxy?')).toBe('en');
    expect(detectLanguage('How do I configure 代理?')).toBe('en');
    expect(detectLanguage('What does 知识库 mean?')).toBe('en');
    expect(detectLanguage('')).toBe('en');
    expect(detectLanguage('12345 ???')).toBe('en');
    expect(detectLanguage('프록시 설정')).toBe('en');
  });
});

describe('segmentForIndex', () => {
  it('rewrites CJK runs as unigrams and bigrams and leaves Latin text alone', () => {
    expect(segmentForIndex('使用知识库')).toBe(' 使 使用 用 用知 知 知识 识 识库 库 ');
    expect(segmentForIndex('Plain English text.')).toBe('Plain English text.');
    expect(segmentForIndex('vue组件').split(/\s+/).filter(Boolean)).toEqual(['vue', '组', '组件', '件']);
  });

  it('segments Japanese kana and kanji alike, and folds full-width Latin', () => {
    expect(segmentForIndex('東京タワー').split(/\s+/).filter(Boolean)).toEqual([
      '東',
      '東京',
      '京',
      '京タ',
      'タ',
      'タワ',
      'ワ',
      'ワー',
      'ー',
    ]);
    expect(segmentForIndex('ＡＰＩ key')).toBe('API key');
  });
});

describe('queryTerms', () => {
  it('drops English stop words and searches CJK runs by their bigrams', () => {
    expect(queryTerms('How do I rebuild the 知识库?')).toEqual(['rebuild', '知识', '识库']);
    expect(queryTerms('the and of')).toEqual([]);
  });

  it('keeps a one-character CJK word, splits mixed-script words and ignores punctuation', () => {
    expect(queryTerms('vue组件怎么用！')).toEqual(['vue', '组件', '件怎', '怎么', '么用']);
    expect(queryTerms('Vue 3.0 和 React')).toEqual(['vue', '3', '0', '和', 'react']);
    expect(queryTerms('！？。…')).toEqual([]);
  });

  it('handles Japanese and caps the number of terms', () => {
    expect(queryTerms('設定を変更')).toEqual(['設定', '定を', 'を変', '変更']);
    expect(queryTerms('知'.repeat(10) + '识'.repeat(200)).length).toBeLessThanOrEqual(64);
  });

  it('every query term of a CJK text is a term of its index form', () => {
    const text = '这个知识库支持混合检索，设定を変更できます';
    const indexed = new Set(segmentForIndex(text).split(/\s+/));
    for (const term of queryTerms(text)) expect(indexed.has(term)).toBe(true);
  });
});

describe('orExpression', () => {
  it('quotes every term so that no user text is read as FTS5 syntax', () => {
    expect(orExpression(queryTerms('rebuild 知识'))).toBe('"rebuild" OR "知识"');
    const expression = orExpression(queryTerms('say "hi" NEAR(bar*, 2) -x ^y col:z'));
    // Only quoted terms joined by OR remain: no bare quote, star, column filter or NEAR operator.
    expect(expression).toMatch(/^"[^"]+"(?: OR "[^"]+")*$/);
    expect(expression).not.toMatch(/\*|\^|:|\(/);
    expect(orExpression(['a"b'])).toBe('"a""b"');
  });
});
