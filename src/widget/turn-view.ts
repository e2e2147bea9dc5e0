import type { Source } from '../shared/protocol.ts';
import { headingBelowTitle } from '../shared/source-heading.ts';
import { h } from './dom.ts';
import { format, type Strings } from './i18n.ts';
import { safeHref } from './markdown-inline.ts';
import { parseMarkdown } from './markdown.ts';
import { mountMarkdown } from './markdown-dom.ts';
import type { Rating } from './feedback.ts';
import type { Turn } from './storage.ts';

/**
 * The DOM of one turn: the question, then the answer rendered from Markdown with its citation markers
 * linked to the list of sources under it, a not-found answer marked as such, or an error with a retry
 * button; a complete answer has thumbs up and down under it (`POST /feedback`).
 */

/** Error codes that mean "busy or down, try later" rather than "this request is wrong". */
const BUSY = new Set([
  'upstream_unavailable',
  'upstream_timeout',
  'upstream_error',
  'rate_limited',
  'service_unavailable',
]);
/** Error codes whose server message helps whoever embeds the widget (it names the setting or the kb). */
const REJECTED = new Set([
  'not_found',
  'invalid_request',
  'forbidden',
  'payload_too_large',
  'embedder_mismatch',
]);

function errorText(error: Turn['error'], strings: Strings): { text: string; details?: string } {
  const code = error?.code ?? 'network';
  if (code === 'network' || code === 'incomplete') return { text: strings.errorNetwork };
  if (BUSY.has(code)) return { text: strings.errorBusy };
  if (REJECTED.has(code) && error?.message) return { text: strings.errorRejected, details: error.message };
  return { text: strings.errorGeneric };
}

function sourceItem(source: Source): HTMLLIElement {
  const href = source.url ? safeHref(source.url) : undefined;
  const title = source.title || source.path;
  // The title is shown above the heading path: not twice.
  const path = headingBelowTitle(title, source.heading)
    // Headings keep their Markdown code spans; the backticks are noise in a one-line label.
    .map((part) => part.replace(/`([^`]+)`/g, '$1'));
  const where = [path.join(' › '), source.page ? `p. ${source.page}` : ''].filter(Boolean).join(' · ');
  return h(
    'li',
    { class: 'kb-source', value: String(source.index), tabindex: '-1' },
    href
      ? h('a', { class: 'kb-source-title', href, target: '_blank', rel: 'noopener' }, title)
      : h('span', { class: 'kb-source-title' }, title),
    where && h('span', { class: 'kb-source-heading' }, where),
  );
}

/** Moves to a source and flashes it, so a reader sees which entry a marker named. */
function reveal(item: HTMLElement): void {
  item.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  item.focus({ preventScroll: true });
  item.classList.remove('kb-flash');
  // Restarting the animation needs a style flush between removing and adding the class.
  void item.offsetWidth;
  item.classList.add('kb-flash');
}

/** What a turn's buttons do. */
export interface TurnActions {
  retry: () => void;
  rate: (rating: Rating) => void;
}

/** Thumbs up and down under a complete answer; the chosen one is pressed. */
function ratingView(turn: Turn, strings: Strings, rate: (rating: Rating) => void): HTMLElement {
  const button = (rating: Rating, label: string, glyph: string): HTMLButtonElement => {
    const b = h(
      'button',
      {
        type: 'button',
        class: 'kb-rate',
        'aria-label': label,
        title: label,
        'aria-pressed': String(turn.rating === rating),
      },
      glyph,
    );
    b.addEventListener('click', () => rate(rating));
    return b;
  };
  return h(
    'div',
    { class: 'kb-rating' },
    button('up', strings.rateUp, '👍'),
    button('down', strings.rateDown, '👎'),
  );
}

function answerView(turn: Turn, strings: Strings, actions: TurnActions): HTMLElement {
  const notFound = turn.found === false;
  const classes = ['kb-msg', 'kb-bot', notFound && 'kb-notfound', turn.status === 'error' && 'kb-failed'];
  const bubble = h(
    'div',
    { class: classes.filter(Boolean).join(' ') },
    h('span', { class: 'kb-sr' }, `${strings.assistant}: `),
  );
  if (notFound) bubble.append(h('p', { class: 'kb-badge' }, strings.notFound));

  const shown = notFound ? [] : turn.sources;
  const items = new Map(shown.map((s) => [s.index, sourceItem(s)]));
  if (turn.answer) {
    const cite = (n: number): Node | undefined => {
      const item = items.get(n);
      const source = shown.find((s) => s.index === n);
      if (!item || !source) return undefined;
      const label = `${format(strings.source, { n })}: ${source.title || source.path}`;
      const button = h(
        'button',
        { type: 'button', class: 'kb-cite', 'aria-label': label, title: label },
        String(n),
      );
      button.addEventListener('click', () => reveal(item));
      return button;
    };
    bubble.append(
      h('div', { class: 'kb-md' }, mountMarkdown(document, parseMarkdown(turn.answer), { cite })),
    );
  } else if (turn.status === 'streaming') {
    bubble.append(h('p', { class: 'kb-typing' }, strings.searching));
  }
  if (turn.status === 'stopped') bubble.append(h('p', { class: 'kb-note' }, strings.stopped));
  if (turn.status === 'error') {
    const { text, details } = errorText(turn.error, strings);
    const retry = h('button', { type: 'button', class: 'kb-retry' }, strings.retry);
    retry.addEventListener('click', actions.retry);
    bubble.append(h('p', { class: 'kb-error-text' }, text));
    if (details) bubble.append(h('p', { class: 'kb-note' }, `${strings.details}: ${details}`));
    bubble.append(retry);
  }
  if (items.size > 0) {
    bubble.append(
      h(
        'div',
        { class: 'kb-sources' },
        h('p', { class: 'kb-sources-title' }, strings.sources),
        h('ol', {}, ...items.values()),
      ),
    );
  }
  if (turn.status === 'done' && turn.answerId) bubble.append(ratingView(turn, strings, actions.rate));
  return bubble;
}

/**
 * The element of one turn; rebuilt whenever the turn changes (answers are short, and a rebuild keeps the
 * rendering a pure function of the turn).
 *
 * @example
 * log.replaceChild(turnView(turn, strings, { retry: () => conversation.retry(i), rate: (r) => conversation.rate(i, r) }), old);
 */
export function turnView(turn: Turn, strings: Strings, actions: TurnActions): HTMLElement {
  return h(
    'div',
    { class: 'kb-turn' },
    h('div', { class: 'kb-msg kb-user' }, h('span', { class: 'kb-sr' }, `${strings.you}: `), turn.question),
    answerView(turn, strings, actions),
  );
}
