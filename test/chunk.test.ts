import { describe, expect, it } from 'vitest';
import { chunkDocument, defaultChunkOptions, type ChunkOptions, type DraftChunk } from '../ingest/chunk.ts';
import { countTokens } from '../src/text/tokens.ts';
import { prng } from './prng.ts';

const WORDS = (
  'the knowledge base answers questions from documents with citations and streams each answer while ' +
  'retrieval ranks passages by vector similarity full text search combined proxy server configuration ' +
  'install windows linux package manager environment variable network request timeout token budget'
).split(' ');
const HAN =
  '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处府';
const CJK_ENDS = '。！？；';

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

function englishSentence(rng: () => number, words = 6 + Math.floor(rng() * 18), marker = ''): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(rng, WORDS));
  if (marker) out.splice(Math.floor(rng() * out.length), 0, marker);
  const first = out[0]!;
  out[0] = first[0]!.toUpperCase() + first.slice(1);
  return out.join(' ') + pick(rng, ['.', '.', '.', '!', '?']);
}

function chineseSentence(rng: () => number, chars = 8 + Math.floor(rng() * 30)): string {
  let s = '';
  for (let i = 0; i < chars; i++) s += HAN[Math.floor(rng() * HAN.length)];
  return s + pick(rng, [...CJK_ENDS]);
}

function paragraph(rng: () => number, sentences: number, marker = ''): string {
  return Array.from({ length: sentences }, () => englishSentence(rng, undefined, marker)).join(' ');
}

function codeFence(rng: () => number, lines: number): string {
  const body = Array.from({ length: lines }, (_, i) =>
    i % 7 === 3
      ? `# comment ${i} that looks like a heading`
      : `const value${i} = compute(${Math.floor(rng() * 1000)}); // ${pick(rng, WORDS)}`,
  );
  return ['```ts', ...body, '```'].join('\n');
}

function table(rng: () => number, rows: number): string {
  const lines = ['| Name | Value | Notes |', '| --- | ---: | --- |'];
  for (let i = 0; i < rows; i++)
    lines.push(`| row${i} | ${Math.floor(rng() * 1e6)} | ${pick(rng, WORDS)} ${pick(rng, WORDS)} |`);
  return lines.join('\n');
}

function check(chunks: DraftChunk[], options: ChunkOptions = defaultChunkOptions): void {
  chunks.forEach((chunk, i) => {
    expect(chunk.ordinal).toBe(i);
    expect(chunk.tokenCount).toBe(countTokens(chunk.embedText));
    expect(chunk.tokenCount).toBeLessThanOrEqual(options.maxTokens);
    expect(chunk.text).toBe(chunk.text.trim());
    expect(chunk.text.length).toBeGreaterThan(0);
    expect(chunk.embedText.endsWith(chunk.text)).toBe(true);
    expect(chunk.text).not.toContain('\uFFFD');
    expect(fencesBalanced(chunk.text)).toBe(true);
  });
}

/** True when every ``` fence opened in `text` is closed again. */
function fencesBalanced(text: string): boolean {
  let open: string | undefined;
  for (const line of text.split('\n')) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (!marker) continue;
    if (open === undefined) open = marker;
    else if (marker[0] === open[0] && marker.length >= open.length && line.trim() === marker)
      open = undefined;
  }
  return open === undefined;
}

/** The heading-path line of embedText, or '' when it has none. */
function prefixOf(chunk: DraftChunk): string {
  return chunk.embedText === chunk.text ? '' : chunk.embedText.slice(0, -chunk.text.length - 2);
}

describe('chunkDocument', () => {
  it('returns no chunks for empty or whitespace-only documents', () => {
    expect(chunkDocument({ title: 'Empty', text: '' })).toEqual([]);
    expect(chunkDocument({ title: 'Blank', text: ' \n\n\t \r\n ' })).toEqual([]);
    expect(chunkDocument({ title: 'Empty headings', text: '#\n\n##\n' })).toEqual([]);
  });

  it('prefixes embedText with the title and heading path, without repeating a title that is the first heading', () => {
    const text = 'Intro text.\n\n# Windows\n\n## Proxy\n\nSet HTTPS_PROXY first.\n\n# Linux\n\nUse apt.';
    const chunks = chunkDocument({ title: 'Install Guide', text });
    expect(chunks.map((c) => [c.heading, prefixOf(c), c.text])).toEqual([
      ['', 'Install Guide', 'Intro text.'],
      ['Windows > Proxy', 'Install Guide > Windows > Proxy', 'Set HTTPS_PROXY first.'],
      ['Linux', 'Install Guide > Linux', 'Use apt.'],
    ]);
    const titled = chunkDocument({
      title: 'Install Guide',
      text: '# Install Guide\n\nHello.\n\n## Windows\n\nRun it.',
    });
    expect(titled.map((c) => prefixOf(c))).toEqual(['Install Guide', 'Install Guide > Windows']);
    expect(titled[1]!.embedText).toBe('Install Guide > Windows\n\nRun it.');
  });

  it('gives a section with no body of its own no chunk, and strips closing hashes and anchors from headings', () => {
    const chunks = chunkDocument({
      title: '',
      text: '# Guide\n## Setup {#setup}\n### Steps ###\n\nDo this.',
    });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.heading).toBe('Guide > Setup > Steps');
    expect(chunks[0]!.embedText).toBe('Guide > Setup > Steps\n\nDo this.');
  });

  it('ignores heading-like lines inside code fences', () => {
    const text = '# Real\n\n```bash\n# not a heading\necho hi\n```\n\nAfter the fence.';
    const chunks = chunkDocument({ title: 'T', text });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.heading).toBe('Real');
    expect(chunks[0]!.text).toBe('```bash\n# not a heading\necho hi\n```\n\nAfter the fence.');
  });

  it('never exceeds maxTokens and counts tokenCount exactly, over random mixed documents', () => {
    const optionSets: Partial<ChunkOptions>[] = [
      {},
      { maxTokens: 64, overlapTokens: 10, minTokens: 8 },
      { maxTokens: 128, overlapTokens: 0 },
    ];
    for (let seed = 1; seed <= 12; seed++) {
      const rng = prng(seed);
      const parts: string[] = [];
      for (let b = 0; b < 40; b++) {
        const r = rng();
        if (r < 0.12)
          parts.push(`${'#'.repeat(1 + Math.floor(rng() * 4))} ${englishSentence(rng, 3).slice(0, -1)}`);
        else if (r < 0.35) parts.push(paragraph(rng, 1 + Math.floor(rng() * 12)));
        else if (r < 0.5)
          parts.push(Array.from({ length: 1 + Math.floor(rng() * 10) }, () => chineseSentence(rng)).join(''));
        else if (r < 0.6) parts.push(codeFence(rng, 2 + Math.floor(rng() * 60)));
        else if (r < 0.7) parts.push(table(rng, 1 + Math.floor(rng() * 40)));
        else if (r < 0.8)
          parts.push(
            Array.from({ length: 1 + Math.floor(rng() * 8) }, () => `- ${englishSentence(rng)}`).join('\n'),
          );
        else if (r < 0.85)
          parts.push(WORDS.join('').repeat(3)); // one "word" far over small limits
        else if (r < 0.9)
          parts.push(chineseSentence(rng, 900).slice(0, -1)); // CJK without punctuation
        else
          parts.push(
            `日本語の文です。${chineseSentence(rng)}プロキシを設定してください！ 😀 ${englishSentence(rng)}`,
          );
      }
      const text = parts.join(rng() < 0.5 ? '\n\n' : '\n');
      for (const options of optionSets) {
        const resolved = { ...defaultChunkOptions, ...options };
        const chunks = chunkDocument({ title: `Doc ${seed}`, text }, options);
        expect(chunks.length).toBeGreaterThan(0);
        check(chunks, resolved);
      }
    }
  });

  it('puts each chunk under the heading path of the section its text comes from', () => {
    const rng = prng(7);
    const paths: string[][] = [];
    const stack: string[] = [];
    let text = '';
    for (let s = 0; s < 25; s++) {
      const level = 1 + Math.floor(rng() * Math.min(4, stack.length + 1));
      stack.length = level - 1;
      stack.push(`Part ${s}`);
      paths.push([...stack]);
      // Every sentence of section s carries the marker "mark<s>x".
      text += `${'#'.repeat(level)} Part ${s}\n\n${paragraph(rng, Math.floor(rng() * 30), `mark${s}x`)}\n\n`;
    }
    const chunks = chunkDocument({ title: 'Manual', text }, { maxTokens: 120, overlapTokens: 30 });
    check(chunks, { maxTokens: 120, overlapTokens: 30, minTokens: 40 });
    for (const chunk of chunks) {
      const marks = new Set([...chunk.text.matchAll(/mark(\d+)x/g)].map((m) => Number(m[1])));
      expect(marks.size).toBe(1); // no text, overlap included, crosses a heading
      const path = paths[[...marks][0]!]!;
      expect(chunk.heading).toBe(path.join(' > '));
      expect(prefixOf(chunk)).toBe(['Manual', ...path].join(' > '));
    }
  });

  it('cuts long Chinese paragraphs right after 。！？； and never inside a sentence that fits', () => {
    const rng = prng(3);
    const sentences = Array.from({ length: 300 }, () => chineseSentence(rng));
    const chunks = chunkDocument(
      { title: '指南', text: `# 配置\n\n${sentences.join('')}` },
      { maxTokens: 150, overlapTokens: 20 },
    );
    check(chunks, { maxTokens: 150, overlapTokens: 20, minTokens: 40 });
    expect(chunks.length).toBeGreaterThan(5);
    const known = new Set(sentences);
    for (const chunk of chunks) {
      expect(CJK_ENDS).toContain(chunk.text.at(-1));
      const pieces = chunk.text.split(/(?<=[。！？；])/);
      for (const piece of pieces) expect(known.has(piece)).toBe(true);
    }
  });

  it('splits a sentence longer than the limit at clauses, then words, never cutting a word', () => {
    const rng = prng(11);
    const clauses = Array.from({ length: 40 }, () => englishSentence(rng, 12).slice(0, -1)).join(', ');
    const runOn = Array.from({ length: 400 }, () => pick(rng, WORDS)).join(' ');
    const text = `# Long\n\n${clauses}.\n\n${runOn}`;
    const chunks = chunkDocument({ title: 'T', text }, { maxTokens: 80, overlapTokens: 0 });
    check(chunks, { maxTokens: 80, overlapTokens: 0, minTokens: 40 });
    const words = new Set(text.split(/[\s,.#]+/).filter(Boolean));
    for (const chunk of chunks) {
      for (const word of chunk.text.split(/[\s,.]+/).filter(Boolean)) expect(words.has(word)).toBe(true);
    }
    // Clause cuts come right after a comma.
    expect(chunks.filter((c) => c.text.endsWith(',')).length).toBeGreaterThan(0);
  });

  it('keeps every word of the input whole in some chunk', () => {
    const rng = prng(5);
    const text = Array.from(
      { length: 30 },
      (_, i) => `## S${i}\n\n${paragraph(rng, 1 + Math.floor(rng() * 15))}`,
    ).join('\n\n');
    const chunks = chunkDocument(
      { title: 'Words', text },
      { maxTokens: 70, overlapTokens: 15, minTokens: 10 },
    );
    const chunkWords = new Set(chunks.flatMap((c) => c.text.split(/\s+/)));
    for (const word of text.split(/\s+/).filter((w) => w && !w.startsWith('#') && !/^S\d+$/.test(w))) {
      expect(chunkWords.has(word)).toBe(true);
    }
  });

  it('keeps a code fence that fits whole in exactly one chunk', () => {
    const rng = prng(9);
    const fences = Array.from({ length: 6 }, () => codeFence(rng, 3 + Math.floor(rng() * 12)));
    const text = fences.map((f) => `${paragraph(rng, 4)}\n\n${f}`).join('\n\n');
    const chunks = chunkDocument({ title: 'Code', text }, { maxTokens: 300, overlapTokens: 40 });
    check(chunks, { maxTokens: 300, overlapTokens: 40, minTokens: 40 });
    for (const fence of fences) expect(chunks.filter((c) => c.text.includes(fence))).toHaveLength(1);
  });

  it('gives a fence over the limit chunks of its own, cut between lines and each re-opened and closed', () => {
    const rng = prng(13);
    const fence = codeFence(rng, 200);
    const chunks = chunkDocument({ title: 'Big', text: `Before.\n\n${fence}\n\nAfter.` }, { maxTokens: 200 });
    check(chunks, { ...defaultChunkOptions, maxTokens: 200 });
    const parts = chunks.filter((c) => c.text.startsWith('```ts'));
    expect(parts.length).toBeGreaterThan(3);
    for (const part of parts) expect(part.text.endsWith('\n```')).toBe(true);
    const body = parts.flatMap((p) => p.text.split('\n').slice(1, -1));
    expect(['```ts', ...body, '```'].join('\n')).toBe(fence); // byte-exact, nothing lost or repeated
    expect(chunks[0]!.text).toBe('Before.');
    expect(chunks.at(-1)!.text).toBe('After.');
  });

  it('cuts a single code line longer than the limit at token boundaries inside valid fences', () => {
    const line = `const data = "${'abc123XYZ'.repeat(400)}";`;
    const chunks = chunkDocument(
      { title: 'Minified', text: `\`\`\`js\n${line}\n\`\`\`` },
      { maxTokens: 100, overlapTokens: 0 },
    );
    check(chunks, { maxTokens: 100, overlapTokens: 0, minTokens: 40 });
    expect(chunks.map((c) => c.text.split('\n').slice(1, -1).join('')).join('')).toBe(line);
  });

  it('repeats the header and separator rows in every chunk of a long table', () => {
    const rng = prng(17);
    const tableText = table(rng, 150);
    const [header, separator] = tableText.split('\n');
    const chunks = chunkDocument(
      { title: 'Data', text: `# Data\n\nThe table below.\n\n${tableText}` },
      { maxTokens: 150 },
    );
    check(chunks, { ...defaultChunkOptions, maxTokens: 150 });
    const withRows = chunks.filter((c) => /\| row\d+ \|/.test(c.text));
    expect(withRows.length).toBeGreaterThan(5);
    for (const chunk of withRows) {
      const lines = chunk.text.split('\n');
      const at = lines.indexOf(header!);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(lines[at + 1]).toBe(separator);
    }
    const rows = withRows.flatMap((c) => c.text.split('\n').filter((l) => /^\| row\d+ \|/.test(l)));
    expect(rows).toEqual(tableText.split('\n').slice(2)); // every row exactly once, in order
  });

  it('shares about overlapTokens of whole sentences between consecutive chunks of a section, not across headings', () => {
    const rng = prng(21);
    const sentences = Array.from({ length: 120 }, () => englishSentence(rng));
    const text = `# One\n\n${sentences.slice(0, 60).join(' ')}\n\n# Two\n\n${sentences.slice(60).join(' ')}`;
    const options = { maxTokens: 200, overlapTokens: 40, minTokens: 20 };
    const chunks = chunkDocument({ title: 'Overlap', text }, options);
    check(chunks, options);
    const sentencesOf = (t: string) => t.split(/(?<=[.!?]) /);
    let overlaps = 0;
    for (let i = 1; i < chunks.length; i++) {
      const previous = sentencesOf(chunks[i - 1]!.text);
      const current = sentencesOf(chunks[i]!.text);
      // The longest run of whole sentences that ends the previous chunk and starts this one.
      let shared = 0;
      for (let n = Math.min(previous.length - 1, current.length - 1); n > 0 && shared === 0; n--) {
        if (previous.slice(-n).join(' ') === current.slice(0, n).join(' ')) shared = n;
      }
      if (chunks[i]!.heading !== chunks[i - 1]!.heading) {
        expect(shared).toBe(0);
        expect(chunks[i - 1]!.text).not.toContain(current[0]);
        continue;
      }
      expect(shared).toBeGreaterThan(0);
      expect(countTokens(current.slice(0, shared).join(' '))).toBeLessThanOrEqual(
        options.overlapTokens * 1.5,
      );
      overlaps++;
    }
    expect(overlaps).toBeGreaterThan(6);
  });

  it('merges a tiny trailing piece into its neighbour, or gives it sentences from the chunk before', () => {
    const rng = prng(25);
    const fits = `## Fits\n\n${paragraph(rng, 3)}\n\nTiny tail.`;
    expect(chunkDocument({ title: 'T', text: fits })).toHaveLength(1);
    // Sentences of ~20 tokens that fill 100-token chunks and leave a short tail.
    for (let n = 5; n < 40; n++) {
      const text = `## Long\n\n${paragraph(prng(n), n)} Short end.`;
      const options = { maxTokens: 100, overlapTokens: 0, minTokens: 30 };
      const chunks = chunkDocument({ title: 'T', text }, options);
      check(chunks, options);
      if (chunks.length > 1)
        expect(countTokens(chunks.at(-1)!.text)).toBeGreaterThanOrEqual(options.minTokens);
    }
  });

  it('keeps list items whole and together', () => {
    const items = Array.from(
      { length: 12 },
      (_, i) => `- Item ${i}: ${englishSentence(prng(i))} ${englishSentence(prng(i + 50))}`,
    );
    const chunks = chunkDocument(
      { title: 'List', text: `# Steps\n\n${items.join('\n')}` },
      { maxTokens: 160 },
    );
    check(chunks, { ...defaultChunkOptions, maxTokens: 160 });
    for (const item of items) expect(chunks.some((c) => c.text.includes(item))).toBe(true);
  });

  it('numbers pages by where each chunk body starts when pageOffsets are given', () => {
    const rng = prng(29);
    const pages = Array.from({ length: 8 }, (_, p) =>
      Array.from({ length: 1 + Math.floor(rng() * 6) }, () => paragraph(rng, 3, `page${p + 1}x`)).join(
        '\n\n',
      ),
    );
    const pageOffsets: number[] = [];
    let text = '';
    for (const page of pages) {
      if (text) text += '\n\n';
      pageOffsets.push(text.length);
      text += page;
    }
    const chunks = chunkDocument(
      { title: 'Report', text, pageOffsets },
      { maxTokens: 120, overlapTokens: 0 },
    );
    check(chunks, { maxTokens: 120, overlapTokens: 0, minTokens: 40 });
    for (const chunk of chunks) expect(chunk.page).toBe(Number(/page(\d+)x/.exec(chunk.text)![1]));
    expect(chunkDocument({ title: 'No pages', text: 'Hello.' })[0]).not.toHaveProperty('page');
  });

  it('is deterministic and keeps code fence contents byte-exact', () => {
    const text = '# A\n\n```py\ndef f( x ):\n\treturn  x   # spaced\n\n\n```\n\nText   with   spaces.';
    const first = chunkDocument({ title: 'A', text });
    expect(chunkDocument({ title: 'A', text })).toEqual(first);
    expect(first[0]!.text).toBe('```py\ndef f( x ):\n\treturn  x   # spaced\n\n\n```\n\nText with spaces.');
  });

  it('rejects a maxTokens under 16 or negative options, and clamps an overlap over half of maxTokens', () => {
    expect(() => chunkDocument({ title: '', text: 'x' }, { maxTokens: 8 })).toThrow(RangeError);
    expect(() => chunkDocument({ title: '', text: 'x' }, { overlapTokens: -1 })).toThrow(RangeError);
    expect(() => chunkDocument({ title: '', text: 'x' }, { minTokens: -1 })).toThrow(RangeError);
    // { ...defaultChunkOptions, maxTokens: 100 } keeps the default overlap of 60: that must still work.
    const text = paragraph(prng(31), 40);
    const chunks = chunkDocument({ title: 'T', text }, { ...defaultChunkOptions, maxTokens: 100 });
    check(chunks, { ...defaultChunkOptions, maxTokens: 100 });
  });
});
