import { describe, expect, it } from 'vitest';
import { chunkDocument, type DraftChunk } from '../ingest/chunk.ts';
import { countTokens } from '../src/text/tokens.ts';

const view = (chunks: DraftChunk[]) => chunks.map((c) => ({ heading: c.heading, embedText: c.embedText }));

describe('setext headings', () => {
  it('give the heading path, section splits and no underline in the text, like ATX headings', () => {
    const text = 'Install Guide\n=============\n\nIntro text.\n\nWindows\n-------\n\nSteps.';
    const chunks = chunkDocument({ title: '', text });
    expect(chunks.map((c) => [c.heading, c.embedText])).toEqual([
      ['Install Guide', 'Install Guide\n\nIntro text.'],
      ['Install Guide > Windows', 'Install Guide > Windows\n\nSteps.'],
    ]);
    expect(view(chunkDocument({ title: 'Install Guide', text }))).toEqual(view(chunks));
  });

  it('chunk exactly as the same document written with # and ## does, Chinese included', () => {
    const setext = [
      '安装指南',
      '====',
      '',
      '本指南说明如何安装。',
      '',
      'Windows  ',
      '  ---',
      '先设置代理。',
      '',
      'Linux {#linux}',
      '=======',
      '',
      '- one',
      '- two',
      '',
      'Multi-line',
      'heading',
      '---',
      'Done.',
    ].join('\n');
    const atx = [
      '# 安装指南',
      '',
      '本指南说明如何安装。',
      '',
      '## Windows',
      '先设置代理。',
      '',
      '# Linux {#linux}',
      '',
      '- one',
      '- two',
      '## Multi-line heading',
      'Done.',
    ].join('\n');
    const chunks = chunkDocument({ title: 'Guide', text: setext });
    expect(chunks).toEqual(chunkDocument({ title: 'Guide', text: atx }));
    expect(chunks.map((c) => c.heading)).toEqual([
      '安装指南',
      '安装指南 > Windows',
      'Linux',
      'Linux > Multi-line heading',
    ]);
  });

  it('are not read after a blank line, under a list item, block quote or indented code, nor in a fence', () => {
    const text = [
      'Intro.',
      '',
      '---',
      '- item',
      '---',
      '> quoted',
      '---',
      '',
      '    indented code',
      '---',
      '',
      '```',
      'Not a heading',
      '---',
      '```',
      '',
      'Spaced - - -',
      '- - -',
      'Four spaces',
      '    ===',
    ].join('\n');
    const chunks = chunkDocument({ title: '', text });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.heading).toBe('');
    expect(chunks[0]!.text).toBe(
      [
        'Intro.',
        '',
        '- item',
        '',
        '> quoted',
        '',
        'indented code',
        '',
        '```',
        'Not a heading',
        '---',
        '```',
        '',
        'Spaced - - -',
        '',
        'Four spaces',
        '    ===',
      ].join('\n'),
    );
  });

  it('leave front matter at the very start of the text as it was: its closing --- is no underline', () => {
    const chunks = chunkDocument({ title: 'T', text: '---\ntitle: Intro\n---\n\nBody text.' });
    expect(chunks.map((c) => [c.heading, c.text])).toEqual([['', 'title: Intro\n\nBody text.']]);
  });

  it('keep a paragraph too long to be a heading as text, so none of it leaves the chunks', () => {
    const long =
      'This licence paragraph sits right above a separator line drawn in a plain text file. '.repeat(3);
    const text = `${long.trim()}\n---\nNext part.\n\n${long.trim()}\n=====\nMore.`;
    const chunks = chunkDocument({ title: '', text });
    expect(chunks.map((c) => c.heading)).toEqual(['']);
    expect(chunks[0]!.text).toBe(`${long.trim()}\n\nNext part.\n\n${long.trim()}\n=====\nMore.`);
  });
});

describe('documents of headings only', () => {
  it('give one chunk holding the heading, the title not repeated', () => {
    const [chunk, ...rest] = chunkDocument({
      title: 'Walking on imported air',
      text: '# Walking on imported air',
    });
    expect(rest).toEqual([]);
    expect(chunk).toEqual({
      ordinal: 0,
      heading: '',
      text: 'Walking on imported air',
      embedText: 'Walking on imported air',
      tokenCount: countTokens('Walking on imported air'),
    });
    const setext = chunkDocument({ title: 'release-notes', text: 'Release notes\n=============\n' });
    expect(setext.map((c) => [c.heading, c.embedText])).toEqual([['', 'release-notes\n\nRelease notes']]);
  });

  it('give every heading text, one a line, and keep the page of the first', () => {
    const chunks = chunkDocument(
      { title: 'Only headings', text: '# A\n\n## {#b}\n\n## B\n\n### C\n' },
      { maxTokens: 400 },
    );
    expect(chunks.map((c) => [c.heading, c.embedText])).toEqual([['', 'Only headings\n\nA\nB\nC']]);
    const paged = chunkDocument({ title: '', text: '\n\n# Page two', pageOffsets: [0, 2] });
    expect(paged.map((c) => [c.text, c.page])).toEqual([['Page two', 2]]);
  });

  it('give no chunk when the headings have no text, and change nothing for a document with a body', () => {
    expect(chunkDocument({ title: 'Layout', text: '#\n\n## {#hero}\n' })).toEqual([]);
    const chunks = chunkDocument({ title: '', text: '# A\n\nBody.\n\n## Empty section' });
    expect(chunks.map((c) => [c.heading, c.text])).toEqual([['A', 'Body.']]);
  });
});
