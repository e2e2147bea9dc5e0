import type { Inline } from './markdown-inline.ts';
import type { Block } from './markdown.ts';

/**
 * Mounts a parsed Markdown tree (`markdown.ts`) as DOM nodes. Text only ever enters the DOM through
 * `createTextNode`, and the only attributes set are a fixed class, and a link's `href` (already checked by
 * `safeHref`), `target` and `rel`: model and document text can never become markup.
 */

/** The part of `Document` used here, so tests can pass a small stand-in. */
export type MarkdownDocument = Pick<Document, 'createElement' | 'createTextNode' | 'createDocumentFragment'>;

export interface MountOptions {
  /**
   * Builds the element for citation marker `[index]`, or returns undefined when there is no such source;
   * the marker is then shown as plain text. Default: plain text.
   */
  cite?: (index: number) => Node | undefined;
}

function inlineNodes(
  doc: MarkdownDocument,
  nodes: readonly Inline[],
  options: MountOptions,
  parent: Node,
): void {
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
        parent.appendChild(doc.createTextNode(node.text));
        break;
      case 'break':
        parent.appendChild(doc.createElement('br'));
        break;
      case 'code': {
        const code = doc.createElement('code');
        code.textContent = node.text;
        parent.appendChild(code);
        break;
      }
      case 'strong':
      case 'em': {
        const element = doc.createElement(node.type);
        inlineNodes(doc, node.children, options, element);
        parent.appendChild(element);
        break;
      }
      case 'link': {
        const a = doc.createElement('a');
        a.setAttribute('href', node.href);
        a.setAttribute('target', '_blank');
        // The opened page gets no handle on the host page (`window.opener`).
        a.setAttribute('rel', 'noopener');
        inlineNodes(doc, node.children, options, a);
        parent.appendChild(a);
        break;
      }
      case 'cite':
        parent.appendChild(options.cite?.(node.index) ?? doc.createTextNode(`[${node.index}]`));
        break;
    }
  }
}

function blockNode(doc: MarkdownDocument, block: Block, options: MountOptions): Node {
  switch (block.type) {
    case 'paragraph':
    case 'quote': {
      const element = doc.createElement(block.type === 'quote' ? 'blockquote' : 'p');
      inlineNodes(doc, block.children, options, element);
      return element;
    }
    case 'heading': {
      // Not h1-h6: the widget must not add entries to the host page's document outline.
      const element = doc.createElement('p');
      element.className = 'kb-md-heading';
      const strong = doc.createElement('strong');
      inlineNodes(doc, block.children, options, strong);
      element.appendChild(strong);
      return element;
    }
    case 'list': {
      const element = doc.createElement(block.ordered ? 'ol' : 'ul');
      if (block.ordered && block.start !== 1) element.setAttribute('start', String(block.start));
      for (const item of block.items) {
        const li = doc.createElement('li');
        inlineNodes(doc, item, options, li);
        element.appendChild(li);
      }
      return element;
    }
    case 'code': {
      const pre = doc.createElement('pre');
      const code = doc.createElement('code');
      code.textContent = block.text;
      pre.appendChild(code);
      return pre;
    }
    case 'rule':
      return doc.createElement('hr');
  }
}

/**
 * The DOM of a parsed Markdown tree, as a fragment to append.
 *
 * @example
 * const fragment = mountMarkdown(document, parseMarkdown(answer), { cite: (n) => citeButton(n) });
 * bubble.replaceChildren(fragment);
 */
export function mountMarkdown(
  doc: MarkdownDocument,
  blocks: readonly Block[],
  options: MountOptions = {},
): DocumentFragment {
  const fragment = doc.createDocumentFragment();
  for (const block of blocks) fragment.appendChild(blockNode(doc, block, options));
  return fragment;
}
