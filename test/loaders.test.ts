import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PDFParse } from 'pdf-parse';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadDocx } from '../ingest/loaders/docx.ts';
import { htmlToStructuredText, loadHtml } from '../ingest/loaders/html.ts';
import type { LoadedDocument } from '../ingest/loaders/loader.ts';
import { loadMarkdown, loadMdx } from '../ingest/loaders/markdown.ts';
import { cleanPageText, loadPdf } from '../ingest/loaders/pdf.ts';
import { loaderFor, loaders, supportedExtensions } from '../ingest/loaders/registry.ts';
import { loadText } from '../ingest/loaders/text.ts';

const DOCS = fileURLToPath(new URL('./fixtures/docs/', import.meta.url));
const BAD = fileURLToPath(new URL('./fixtures/bad/', import.meta.url));
// pdf.js loads its worker code and CMaps on first use: the first PDF of a run takes a few seconds.
const PDF_TIMEOUT = 30_000;

const fixture = (name: string) => readFile(join(DOCS, name));
const bad = (name: string) => readFile(join(BAD, name));
const load = async (loader: typeof loadText, bytes: Uint8Array | string, path = 'inline') =>
  loader(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes, { path });

/** Text outside code fences and inline code spans: the only place a raw tag would be a bug. */
function prose(text: string): string {
  return text.replace(/^\s*```[\s\S]*?^\s*```/gm, '').replace(/`[^`\n]*`/g, '');
}
const RAW_TAG = /<\/?[A-Za-z][\w:-]*(?:\s[^<>]*)?\/?>|<!--|<!\[CDATA|<\?xml|<!doctype/i;

const fixtureFiles = (await readdir(DOCS, { recursive: true, withFileTypes: true }))
  .filter((entry) => entry.isFile())
  .map((entry) => join(entry.parentPath, entry.name))
  .sort();

describe.each(Object.entries(loaders))('the %s loader', (extension, entry) => {
  const file = fixtureFiles.find((path) => extname(path).toLowerCase() === extension);
  const binary = entry.format === 'pdf' || entry.format === 'docx';

  it(
    'loads its fixture into a string title, non-empty text without raw tags and scalar metadata',
    async () => {
      expect(file, `test/fixtures/docs needs a ${extension} file`).toBeDefined();
      const bytes = await readFile(file ?? '');
      const before = Buffer.from(bytes);
      const doc: LoadedDocument = await entry.load(bytes, { path: file ?? '' });

      expect(typeof doc.title).toBe('string');
      expect(doc.text.trim()).not.toBe('');
      expect(prose(doc.text)).not.toMatch(RAW_TAG);
      for (const value of Object.values(doc.metadata)) {
        expect(['string', 'number', 'boolean']).toContain(typeof value);
      }
      if (doc.pageOffsets) {
        expect(doc.pageOffsets[0]).toBe(0);
        for (const [i, offset] of doc.pageOffsets.entries()) {
          expect(offset).toBeGreaterThan(i === 0 ? -1 : (doc.pageOffsets[i - 1] ?? 0));
          expect(offset).toBeLessThanOrEqual(doc.text.length);
        }
      }
      // Loaders are pure: the caller's bytes are neither changed nor detached (pdf.js transfers buffers).
      expect(Buffer.from(bytes).equals(before)).toBe(true);
    },
    PDF_TIMEOUT,
  );

  if (binary) {
    it(
      'rejects garbage bytes with an Error saying the file is not valid',
      async () => {
        const garbage = new TextEncoder().encode('this is not a binary document at all\n'.repeat(20));
        await expect(entry.load(garbage, { path: `garbage${extension}` })).rejects.toThrow(/not a valid/);
      },
      PDF_TIMEOUT,
    );
  } else {
    it('loads arbitrary bytes without throwing', async () => {
      const bytes = Uint8Array.from({ length: 512 }, (_, i) => (i * 37 + 11) % 256);
      await expect(entry.load(bytes, { path: `random${extension}` })).resolves.toHaveProperty('text');
    });
  }
});

describe('registry', () => {
  it('lists the supported extensions (a change here is a product change)', () => {
    expect(supportedExtensions).toEqual([
      '.md',
      '.markdown',
      '.mdx',
      '.txt',
      '.html',
      '.htm',
      '.pdf',
      '.docx',
    ]);
  });

  it('picks a loader by extension, ignoring case, and none for unsupported files', () => {
    expect(loaderFor('docs/Guide.PDF')?.format).toBe('pdf');
    expect(loaderFor('a/b/page.HTM')?.format).toBe('html');
    expect(loaderFor('widgets.mdx')?.format).toBe('markdown');
    expect(loaderFor('travel-limits.csv')).toBeUndefined();
    expect(loaderFor('Makefile')).toBeUndefined();
    expect(loaderFor('x.constructor')).toBeUndefined();
  });
});

describe('markdown loader', () => {
  it('takes the title from front matter, keeps scalar fields as metadata and keeps headings', async () => {
    const doc = await loadMarkdown(await fixture('release-notes.markdown'), {
      path: 'release-notes.markdown',
    });
    expect(doc.title).toBe('Release notes 2.4');
    expect(doc.metadata).toEqual({ title: 'Release notes 2.4', version: 2.4, draft: false });
    expect(doc.text).toMatch(
      /^# Version 2\.4\n\n## New features\n\n- Search now understands Chinese queries\./,
    );
    expect(doc.text).toContain('1. Uploads over 10 MB no longer time out.');
    expect(doc.text).not.toContain('---');
  });

  it('reads Chinese Vue docs: first heading as title, anchors and containers gone, code fences verbatim', async () => {
    const doc = await loadMarkdown(await fixture('vue-zh/compile-time-flags.md'), { path: 'x.md' });
    expect(doc.title).toBe('编译时标志');
    expect(doc.metadata).toEqual({ outline: 'deep' });
    expect(doc.text).toMatch(/^# 编译时标志\n\n编译时标志仅在使用 Vue 的 `esm-bundler` 构建版本时生效/);
    expect(doc.text).toContain('## 配置指南\n\n### Vite');
    expect(doc.text).not.toMatch(/\{#|:::/);
    // Link targets are dropped, link text stays.
    expect(doc.text).toContain('请参考配置指南来了解如何根据你的构建工具进行配置。');
    expect(doc.text).toContain(
      "```js [vite.config.js]\nimport { defineConfig } from 'vite'\n\nexport default defineConfig({",
    );
  });

  it('drops <script setup> blocks and component tags but keeps tags inside code', async () => {
    const doc = await loadMarkdown(await fixture('vue-zh/conditional.md'), { path: 'conditional.md' });
    expect(doc.title).toBe('条件渲染');
    expect(doc.text).not.toContain('const awesome = ref(true)');
    expect(doc.text).not.toContain('<div class="demo">');
    expect(doc.text).toContain('```vue-html\n<h1 v-if="awesome">Vue is awesome!</h1>\n```');
    expect(doc.text).toContain('## `<template>` 上的 `v-if`');
  });

  it('ignores front matter that is not valid YAML and strips a BOM', async () => {
    const doc = await load(loadMarkdown, '\uFEFF---\ntitle: [unclosed\n---\n# Heading\r\n\r\nBody text');
    expect(doc.title).toBe('Heading');
    expect(doc.metadata).toEqual({});
    expect(doc.text).toBe('# Heading\n\nBody text');
  });

  it('takes the title from the first level-1 heading, setext (===) or ATX, whichever comes first', async () => {
    const zh = await load(loadMarkdown, '安装指南\n====\n\n说明。\n\n# 后来的标题\n');
    expect(zh.title).toBe('安装指南');
    expect(zh.text).toBe('安装指南\n====\n\n说明。\n\n# 后来的标题');
    const withFrontMatter =
      '---\nsidebar: false\n---\nSection\n-------\n\nText.\n\n**Install** `Guide`\n===\n';
    const doc = await load(loadMarkdown, withFrontMatter);
    expect(doc.title).toBe('Install Guide');
    expect(doc.metadata).toEqual({ sidebar: false });
    const code = await load(loadMarkdown, '```\nNot a title\n===\n```\n\n# Title\n');
    expect(code.title).toBe('Title');
  });

  it('drops images, badges (an image inside a link) included, and keeps link text', async () => {
    const doc = await load(
      loadMarkdown,
      '# bintrees [![Build Status](https://ci.example/x.svg)](https://ci.example/x)\n\n' +
        'A tree ![logo](logo.png) with [a link](https://x.example) and [![img](a.png)](b).\n',
    );
    expect(doc.title).toBe('bintrees');
    expect(doc.text).not.toMatch(/!\[|\]\(/);
    expect(doc.text).toContain('with a link and');
  });

  it('strips MDX imports, exports, comments and JSX tags but keeps their text and the code', async () => {
    const doc = await loadMdx(await fixture('widgets.mdx'), { path: 'widgets.mdx' });
    expect(doc.title).toBe('Using widgets');
    expect(doc.metadata).toEqual({ title: 'Using widgets', sidebar_position: 3 });
    expect(doc.text).toMatch(
      /^# Widgets\n\nWidgets must be registered before use\.\n\nInstall the package with npm\./,
    );
    expect(doc.text).toContain('Install the package with yarn.');
    expect(prose(doc.text)).not.toMatch(/import|export|Callout|TabItem|\{\/\*|author/);
    expect(doc.text).toContain(
      '```jsx\nimport Widget from \'./Widget\';\n\nexport default function App() {\n  return <Widget size="large" />;\n}\n```',
    );
    expect(doc.text).toContain('The `<Widget>` component takes a `size` prop.');
  });
});

describe('text loader', () => {
  it('falls back to GB18030 for Chinese text that is not UTF-8 and records the encoding', async () => {
    const doc = await loadText(await fixture('meeting-notes-gb18030.txt'), { path: 'notes.txt' });
    expect(doc.title).toBe('');
    expect(doc.metadata).toEqual({ encoding: 'gb18030' });
    expect(doc.text).toMatch(/^会议纪要（二〇二四年三月）\n\n一、下季度的预算需要在四月十日前提交。/);
  });

  it('reads UTF-8 without a BOM or CRs and stores no encoding', async () => {
    const doc = await load(loadText, '\uFEFFline one\r\nline two 你好\r\n');
    expect(doc).toEqual({ title: '', text: 'line one\nline two 你好', metadata: {} });
  });
});

describe('html loader', () => {
  it('drops the page chrome and keeps headings, lists, link text and the table as a pipe table', async () => {
    const doc = await loadHtml(await fixture('intranet-page.html'), { path: 'intranet-page.html' });
    expect(doc.title).toBe('Travel policy · Acme intranet');
    for (const chrome of [
      'NAV-',
      'SEARCH-BUTTON',
      'FOOTER-',
      'TRACKING-SCRIPT',
      'font-family',
      'ASIDE-',
      'PRINT-',
      'NOSCRIPT',
    ]) {
      expect(doc.text).not.toContain(chrome);
    }
    expect(doc.text).not.toContain('Editors: remember');
    expect(doc.text).toMatch(
      /^# Travel policy\n\nBook trips through the travel portal at least \*\*14 days\*\* ahead\./,
    );
    expect(doc.text).not.toContain('travel.example.com');
    expect(doc.text).toMatch(/^\| City +\| Hotel +\| Meals +\|\n\| -+ \| -+ \| -+ \|$/m);
    expect(doc.text).toMatch(/^\| Berlin +\| 150 EUR \| 40 EUR +\|$/m);
    expect(doc.text).toMatch(/^\| 上海 \(Shanghai\) \| 900 CNY \| 300 CNY \|$/m);
    expect(doc.text).toContain(
      "## Before you go\n\n1. Get your manager's approval.\n2. Register the trip in the portal.",
    );
    expect(doc.text).toContain('Receipts & invoices are uploaded in the portal.');
  });

  it('never lets a tag of the markup through, even from a hostile page', () => {
    const hostile = `<?xml version="1.0"?><!DOCTYPE html><html><body>
      <h1>Hostile <span>page</span></h1>
      <!-- a comment with <b>tags</b> -->
      <foo-bar><baz qux="1>2">nested unknown</baz></foo-bar>
      <div><div><span>div <div>soup</div></span></div></div>
      <p>Entities are text: &lt;b&gt;bold?&lt;/b&gt; and &lt;script&gt;</p>
      <DIV CLASS="x>y">upper case</DIV><![CDATA[cdata]]><!bogus declaration>
      <p>unclosed <b>bold <i>italic</p>
      <scr<script>ipt>alert("xss")</script>
      <svg><title>svg title</title><text>svg text</text></svg><template><p>template</p></template>
      <!-- an unterminated comment <div>`;
    const { title, text } = htmlToStructuredText(hostile);
    expect(title).toBe('Hostile page');
    // The only tags left are the ones the page wrote as entities: text, not markup.
    expect(text.replace('<b>bold?</b> and <script>', '')).not.toMatch(RAW_TAG);
    expect(text).toContain('Entities are text: <b>bold?</b> and <script>');
    for (const kept of ['nested unknown', 'div', 'soup', 'upper case', 'unclosed', 'italic'])
      expect(text).toContain(kept);
    for (const dropped of ['alert', 'svg', 'template', 'comment', 'cdata', 'bogus', 'xml']) {
      expect(text).not.toContain(dropped);
    }
  });

  it('keeps the header and footer of an article but drops the site header and footer', () => {
    const { text } = htmlToStructuredText(
      '<header>SITE-HEADER</header><article><header><h1>Post</h1></header><p>Body</p>' +
        '<footer>Posted by Ann</footer></article><footer>SITE-FOOTER</footer>',
    );
    expect(text).toBe('# Post\n\nBody\n\nPosted by Ann');
  });

  it('takes the title from the first <h1> when there is no <title>', async () => {
    expect(htmlToStructuredText('<nav><h1>Site</h1></nav><h1>Real title</h1><p>x</p>').title).toBe(
      'Real title',
    );
    const doc = await loadHtml(await fixture('legacy/faq.htm'), { path: 'faq.htm' });
    expect(doc.title).toBe('Printer FAQ');
    expect(doc.text).toContain('**A:** Open tray 2, remove the jammed paper and close the tray.');
  });

  it('decodes a legacy page with the charset its <meta> declares', async () => {
    const html = '<meta charset="windows-1252"><title>Caf\xe9 menu</title><p>cr\xe8me br\xfbl\xe9e</p>';
    const doc = await loadHtml(Uint8Array.from(Buffer.from(html, 'latin1')), { path: 'menu.htm' });
    expect(doc).toEqual({ title: 'Café menu', text: 'crème brûlée', metadata: { encoding: 'windows-1252' } });
  });
});

describe('docx loader', () => {
  it('keeps headings, lists and tables as Markdown structure', async () => {
    const doc = await loadDocx(await fixture('handbook.docx'), { path: 'handbook.docx' });
    expect(doc.title).toBe('Employee Handbook');
    expect(doc.text).toMatch(/^# Employee Handbook\n\nThis handbook explains/);
    expect(doc.text).toContain(
      '## Leave\n\nBefore requesting leave:\n\n- Check the team calendar\n- Agree cover with your manager',
    );
    expect(doc.text).toContain('1. Open the HR portal\n2. Choose the leave type and dates');
    expect(doc.text).toMatch(/^\| Category \| Daily limit \|\n\| -+ \| -+ \|\n\| Meals +\| 40 EUR +\|$/m);
    expect(doc.text).toContain('报销须在三十天内提交。');
  });

  it('rejects a truncated DOCX saying the archive is damaged', async () => {
    await expect(loadDocx(await bad('truncated.docx'), { path: 'truncated.docx' })).rejects.toThrow(
      'not a valid DOCX file (the zip archive is damaged or truncated)',
    );
  });
});

describe('pdf loader', () => {
  it(
    'reads an English PDF page by page, with page offsets and hyphenated words joined',
    async () => {
      const doc = await loadPdf(await fixture('bash-reference-excerpt.pdf'), { path: 'bash.pdf' });
      expect(doc.metadata).toEqual({ pages: 4 });
      expect(doc.title).toBe('');
      const offsets = doc.pageOffsets ?? [];
      expect(offsets).toHaveLength(4);
      const pages = offsets.map((start, i) => doc.text.slice(start, offsets[i + 1]));
      expect(pages[0]).toMatch(/^Bash Reference Manual/);
      expect(pages[1]).toMatch(/^This text is a brief description of the features/);
      expect(pages[1]).toContain('GNU Free Documentation License');
      // "positional pa-" ends a line on page 3 of the excerpt.
      expect(pages[2]).toContain('positional parameters');
      expect(doc.text).not.toMatch(/pa-\nrameters/);
      expect(pages[3]).toContain('3.4.2 Special Parameters');
    },
    PDF_TIMEOUT,
  );

  it(
    'reads a Chinese PDF whose fonts need CMaps, joining lines broken inside sentences',
    async () => {
      const doc = await loadPdf(await fixture('lshort-zh-cn-excerpt.pdf'), { path: 'lshort.pdf' });
      expect(doc.title).toBe('The Short Introduction to LaTeX2e (Chinese Simplified)');
      expect(doc.metadata).toEqual({ pages: 4 });
      for (const word of ['文档类', '宏包', '导言区', '命令和环境']) expect(doc.text).toContain(word);
      // "个人简" ends a full printed line and "历等等" starts the next: one word, no space, no newline.
      expect(doc.text).toContain('个人简历等等');
      // A short heading line keeps its line break.
      expect(doc.text).toContain('1.4.1 文档类\n文档类规定了');
    },
    PDF_TIMEOUT,
  );

  it(
    'the Chinese fixture really needs CMaps: pdf.js without cMapUrl finds no Chinese in it',
    async () => {
      const parser = new PDFParse({
        data: new Uint8Array(await fixture('lshort-zh-cn-excerpt.pdf')),
        verbosity: 0,
      });
      try {
        const { text } = await parser.getText();
        expect(text).toContain('Chinese TEX Society');
        expect(text).not.toMatch(/\p{Script=Han}/u);
      } finally {
        await parser.destroy();
      }
    },
    PDF_TIMEOUT,
  );

  it(
    'rejects an encrypted PDF, a truncated one and one without text, each with a useful message',
    async () => {
      await expect(loadPdf(await bad('encrypted.pdf'), { path: 'e.pdf' })).rejects.toThrow(
        'PDF is encrypted (password-protected); remove the password and re-run',
      );
      await expect(loadPdf(await bad('truncated.pdf'), { path: 't.pdf' })).rejects.toThrow(
        /^not a valid PDF file/,
      );
      await expect(loadPdf(await bad('scanned-blank.pdf'), { path: 's.pdf' })).rejects.toThrow(
        /no extractable text \(scanned images\?\)/,
      );
    },
    PDF_TIMEOUT,
  );

  it('cleans page text: joins hyphenated English words and wrapped Chinese lines, keeps real breaks', () => {
    expect(cleanPageText('the positional pa-\nrameters  are\tset')).toBe('the positional parameters are set');
    const wrapped =
      '这是一个很长的中文句子它会在这里被排版\n软件折行但其实是同一句话的延续部分。\n短标题\n下一段';
    expect(cleanPageText(wrapped)).toBe(
      '这是一个很长的中文句子它会在这里被排版软件折行但其实是同一句话的延续部分。\n短标题\n下一段',
    );
  });
});

describe('lazy loading', () => {
  afterEach(() => {
    vi.doUnmock('pdf-parse');
    vi.doUnmock('mammoth');
    vi.resetModules();
  });

  it('importing the registry loads neither pdf.js nor mammoth until a PDF or DOCX is loaded', async () => {
    vi.resetModules();
    const imported: string[] = [];
    vi.doMock('pdf-parse', () => {
      imported.push('pdf-parse');
      return {};
    });
    vi.doMock('mammoth', () => {
      imported.push('mammoth');
      return { default: {} };
    });
    const registry = await import('../ingest/loaders/registry.ts');
    await registry.loaders['.md']?.load(new TextEncoder().encode('# x'), { path: 'x.md' });
    expect(imported).toEqual([]);
    // The stubs cannot parse anything; only whether the import happened matters here.
    await registry.loaders['.pdf']?.load(new Uint8Array(8), { path: 'x.pdf' }).catch(() => undefined);
    expect(imported).toEqual(['pdf-parse']);
  });
});
