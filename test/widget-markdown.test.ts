import { describe, expect, it } from 'vitest';
import { parseInline, safeHref } from '../src/widget/markdown-inline.ts';
import { parseMarkdown, type Block } from '../src/widget/markdown.ts';
import { mountMarkdown, type MarkdownDocument } from '../src/widget/markdown-dom.ts';

/**
 * The widget's Markdown renderer: the parser is pure, and the mounting is checked against a minimal
 * stand-in for `document` that records elements, attributes and text nodes, then serialises them with
 * every text escaped. Anything that became markup would show up as an element in that output.
 */

class FakeNode {
  readonly children: FakeNode[] = [];
  readonly attributes = new Map<string, string>();
  constructor(
    readonly tag: string | undefined,
    readonly text = '',
  ) {}
  appendChild(node: FakeNode): FakeNode {
    // Appending a fragment moves its children, as in the DOM.
    if (node.tag === '#fragment') this.children.push(...node.children.splice(0));
    else this.children.push(node);
    return node;
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  set className(value: string) {
    this.attributes.set('class', value);
  }
  set textContent(value: string) {
    this.children.splice(0, this.children.length, new FakeNode(undefined, value));
  }
  set innerHTML(_value: string) {
    throw new Error('innerHTML must never be used');
  }
}

const fakeDocument = {
  createElement: (tag: string) => new FakeNode(tag),
  createTextNode: (text: string) => new FakeNode(undefined, text),
  createDocumentFragment: () => new FakeNode('#fragment'),
} as unknown as MarkdownDocument;

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function serialise(node: FakeNode): string {
  if (node.tag === undefined) return escape(node.text);
  const inner = node.children.map(serialise).join('');
  if (node.tag === '#fragment') return inner;
  const attributes = [...node.attributes].map(([k, v]) => ` ${k}="${escape(v)}"`).join('');
  return node.tag === 'br' || node.tag === 'hr'
    ? `<${node.tag}${attributes}>`
    : `<${node.tag}${attributes}>${inner}</${node.tag}>`;
}

/** Markdown in, the HTML the browser would build out (citations as `<cite-n>` stand-ins). */
function render(markdown: string): string {
  const cite = (n: number) => (n <= 3 ? (new FakeNode(`cite-${n}`) as unknown as Node) : undefined);
  return serialise(mountMarkdown(fakeDocument, parseMarkdown(markdown), { cite }) as unknown as FakeNode);
}

describe('Markdown blocks', () => {
  it('renders paragraphs, single line breaks and headings without adding headings to the page outline', () => {
    expect(render('## Backups\nFirst line\nsecond line\n\nNext paragraph')).toBe(
      '<p class="kb-md-heading"><strong>Backups</strong></p><p>First line<br>second line</p><p>Next paragraph</p>',
    );
  });

  it('renders bulleted and numbered lists, keeping the first number and flattening nested items', () => {
    expect(render('- one\n- two\n  - nested\n\n3. three\n4) four')).toBe(
      '<ul><li>one</li><li>two</li><li>nested</li></ul><ol start="3"><li>three</li><li>four</li></ol>',
    );
  });

  it('lets an unindented line continue a list item, as models often wrap them', () => {
    expect(render('- Stop the server\nthen copy the file\n\nDone.')).toBe(
      '<ul><li>Stop the server<br>then copy the file</li></ul><p>Done.</p>',
    );
  });

  it('keeps code blocks verbatim, Markdown and HTML included, and runs an unclosed fence to the end', () => {
    expect(render('```sh\nnpm run ingest -- **docs** <b>\n```\nafter')).toBe(
      '<pre><code>npm run ingest -- **docs** &lt;b&gt;</code></pre><p>after</p>',
    );
    expect(parseMarkdown('~~~\nhalf written')).toEqual([
      { type: 'code', language: '', text: 'half written' },
    ]);
  });

  it('renders block quotes and rules', () => {
    expect(render('> quoted\n> text\n\n---')).toBe('<blockquote>quoted<br>text</blockquote><hr>');
  });

  it('reads CRLF line ends like LF', () => {
    expect(parseMarkdown('a\r\nb\r\n\r\n- c')).toEqual(parseMarkdown('a\nb\n\n- c'));
  });

  it('renders the extractive answer format of the server', () => {
    const answer =
      'No chat model is configured:\n\n- **Ingesting › Rebuild**: Use `--rebuild`. [1]\n- **FAQ**: See above. [2]';
    expect(render(answer)).toBe(
      '<p>No chat model is configured:</p><ul><li><strong>Ingesting › Rebuild</strong>: Use <code>--rebuild</code>. <cite-1></cite-1></li>' +
        '<li><strong>FAQ</strong>: See above. <cite-2></cite-2></li></ul>',
    );
  });
});

describe('Markdown inline', () => {
  it('renders bold, italic and inline code, leaving unclosed markers as text (a stream mid-way)', () => {
    expect(render('**bold** and *it* and `code` and **half')).toBe(
      '<p><strong>bold</strong> and <em>it</em> and <code>code</code> and **half</p>',
    );
  });

  it('does not treat arithmetic or underscores inside words as emphasis', () => {
    expect(render('2 * 3 * 4 and my_var_name')).toBe('<p>2 * 3 * 4 and my_var_name</p>');
    expect(render('set window.__a and window.__b, or __init__ and snake__case__x')).toBe(
      '<p>set window.__a and window.__b, or <strong>init</strong> and snake__case__x</p>',
    );
    expect(render('__bold__ text')).toBe('<p><strong>bold</strong> text</p>');
  });

  it('honours backslash escapes and double-backtick code spans', () => {
    expect(render('\\*not italic\\* and `` a`b ``')).toBe('<p>*not italic* and <code>a`b</code></p>');
  });

  it('turns [n] and [1, 2] into citations, and leaves markers without a source as text', () => {
    expect(render('Copy the file [1][2]. See [1, 3] and [9].')).toBe(
      '<p>Copy the file <cite-1></cite-1><cite-2></cite-2>. See <cite-1></cite-1><cite-3></cite-3> and [9].</p>',
    );
    expect(parseInline('见[1，2]')).toEqual([
      { type: 'text', text: '见' },
      { type: 'cite', index: 1 },
      { type: 'cite', index: 2 },
    ]);
  });

  it('renders http, https and mailto links that open in a new tab with rel="noopener"', () => {
    expect(render('[Guide](https://docs.example/guide "Title") or [mail](mailto:help@example.com)')).toBe(
      '<p><a href="https://docs.example/guide" target="_blank" rel="noopener">Guide</a> or ' +
        '<a href="mailto:help@example.com" target="_blank" rel="noopener">mail</a></p>',
    );
  });

  it('links bare and angle-bracket URLs, without the sentence punctuation or Chinese text after them', () => {
    expect(render('See https://kb.example/a_(b). Or <http://x.example/y>.')).toBe(
      '<p>See <a href="https://kb.example/a_(b)" target="_blank" rel="noopener">https://kb.example/a_(b)</a>. ' +
        'Or <a href="http://x.example/y" target="_blank" rel="noopener">http://x.example/y</a>.</p>',
    );
    expect(render('(see https://kb.example/x) 详见https://kb.example/faq。')).toBe(
      '<p>(see <a href="https://kb.example/x" target="_blank" rel="noopener">https://kb.example/x</a>) ' +
        '详见<a href="https://kb.example/faq" target="_blank" rel="noopener">https://kb.example/faq</a>。</p>',
    );
  });

  it('does not nest links or citations inside a link', () => {
    expect(render('[see [1] https://a.example](https://b.example)')).toBe(
      '<p><a href="https://b.example/" target="_blank" rel="noopener">see [1] https://a.example</a></p>',
    );
  });
});

describe('Markdown injection attempts come out as inert text', () => {
  it('shows HTML tags as text', () => {
    expect(render('<img src=x onerror=alert(1)> <script>alert(1)</script>')).toBe(
      '<p>&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>',
    );
  });

  it('keeps HTML entities as the literal text that was sent', () => {
    expect(render('&lt;img src=x onerror=alert(1)&gt; &amp; &#106;avascript:')).toBe(
      '<p>&amp;lt;img src=x onerror=alert(1)&amp;gt; &amp;amp; &amp;#106;avascript:</p>',
    );
  });

  it.each([
    ['[x](javascript:alert(1))', '<p>x</p>'],
    ['[x](JaVaScRiPt:alert(1))', '<p>x</p>'],
    ['[x](java\tscript:alert(1))', '<p>x</p>'],
    ['[x](data:text/html,<script>alert(1)</script>)', '<p>x</p>'],
    ['[x](vbscript:msgbox)', '<p>x</p>'],
    ['[x](//evil.example/path)', '<p>x</p>'],
    ['[x](/relative)', '<p>x</p>'],
    ['[x](jav&#x61;script:alert(1))', '<p>x</p>'],
    ['<javascript:alert(1)>', '<p>&lt;javascript:alert(1)&gt;</p>'],
    [
      '[x](https://ok.example/" onclick="alert(1))',
      '<p><a href="https://ok.example/%22%20onclick=%22alert(1)" target="_blank" rel="noopener">x</a></p>',
    ],
  ])('%s', (markdown, html) => {
    expect(render(markdown)).toBe(html);
  });

  it('never produces an element other than the allowed ones, and no attribute but href, target, rel, class and start', () => {
    const hostile = [
      '<a href="javascript:alert(1)">x</a>',
      '<iframe src="https://evil.example"></iframe>',
      '**<b onmouseover=alert(1)>**',
      '- <svg onload=alert(1)>',
      '`<style>*{display:none}</style>`',
      '[<img src=x onerror=alert(1)>](https://ok.example)',
    ].join('\n\n');
    const html = render(hostile);
    const tags = [...html.matchAll(/<([a-z0-9-]+)/g)].map((m) => m[1]);
    expect(new Set(tags)).toEqual(new Set(['p', 'strong', 'ul', 'li', 'code', 'a']));
    const attributes = [...html.matchAll(/ ([a-z-]+)="/g)].map((m) => m[1]);
    expect(new Set(attributes)).toEqual(new Set(['href', 'target', 'rel']));
  });

  it('accepts only absolute http, https and mailto URLs', () => {
    expect(safeHref('https://example.com/a b')).toBe('https://example.com/a%20b');
    expect(safeHref(' mailto:x@example.com ')).toBe('mailto:x@example.com');
    for (const url of [
      'javascript:alert(1)',
      'data:text/html,x',
      'file:///etc/passwd',
      'ftp://x',
      '/x',
      '',
      'http//x',
    ]) {
      expect(safeHref(url), url).toBeUndefined();
    }
  });
});

it('parses into plain data that can be rendered anywhere', () => {
  const blocks: Block[] = parseMarkdown('Hi **there** [1]');
  expect(JSON.parse(JSON.stringify(blocks))).toEqual([
    {
      type: 'paragraph',
      children: [
        { type: 'text', text: 'Hi ' },
        { type: 'strong', children: [{ type: 'text', text: 'there' }] },
        { type: 'text', text: ' ' },
        { type: 'cite', index: 1 },
      ],
    },
  ]);
});
