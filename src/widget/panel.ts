import type { Conversation } from './conversation.ts';
import { h, icon } from './dom.ts';
import type { Strings } from './i18n.ts';
import type { WidgetOptions } from './options.ts';
import type { Turn } from './storage.ts';
import { turnView } from './turn-view.ts';

/**
 * The launcher button and the chat panel inside the widget's shadow root, and their keyboard and
 * screen-reader behaviour: the panel is a labelled non-modal dialog, Esc closes it, focus moves to the
 * question on open and back to the launcher on close, and the message log is a polite live region that
 * is marked busy while an answer streams (so it is read once, complete, not piece by piece).
 */

/** The page-facing API, `window.KbWidget`. */
export interface WidgetApi {
  open(): void;
  close(): void;
  /** Opens the panel and asks; resolves when the answer has ended (done, stopped or failed). */
  ask(text: string): Promise<void>;
}

/** How close to the bottom (px) the log must be for new text to keep it scrolled to the end. */
const STICKY_SCROLL_PX = 48;
/** Space kept above a followed turn, in px (the log's padding). */
const FOLLOW_MARGIN_PX = 16;

function iconButton(className: string, label: string, name: Parameters<typeof icon>[0]): HTMLButtonElement {
  return h('button', { type: 'button', class: className, 'aria-label': label, title: label }, icon(name));
}

/**
 * Builds the widget in `root` and returns its API.
 *
 * @param connect creates the conversation, given the function to call when it changes
 * @example
 * const api = createPanel(shadowRoot, options, stringsFor(options.language), (onChange) => createConversation({ ...deps, onChange }));
 * api.open();
 */
export function createPanel(
  root: ShadowRoot,
  options: WidgetOptions,
  strings: Strings,
  connect: (onChange: (turns: readonly Turn[], changed: number | undefined) => void) => Conversation,
): WidgetApi {
  const launcher = h('button', {
    type: 'button',
    class: 'kb-launcher',
    'aria-expanded': 'false',
    'aria-controls': 'kb-panel',
  });
  const title = h('h2', { class: 'kb-title', id: 'kb-title' }, options.title ?? strings.title);
  const fresh = iconButton('kb-icon-button', strings.newConversation, 'plus');
  const closeButton = iconButton('kb-icon-button', strings.close, 'close');
  const log = h('div', {
    class: 'kb-log',
    role: 'log',
    'aria-live': 'polite',
    'aria-label': strings.conversation,
    tabindex: '0',
  });
  const input = h('textarea', {
    class: 'kb-input',
    id: 'kb-input',
    rows: '1',
    placeholder: options.placeholder ?? strings.placeholder,
    'aria-label': strings.question,
    'aria-describedby': 'kb-hint',
    enterkeyhint: 'send',
  });
  const send = iconButton('kb-action kb-send', strings.send, 'send');
  send.type = 'submit';
  const stop = iconButton('kb-action kb-stop', strings.stop, 'stop');
  stop.hidden = true;
  const form = h('form', { class: 'kb-composer' }, input, send, stop);
  const panel = h(
    'section',
    { class: 'kb-panel', id: 'kb-panel', role: 'dialog', 'aria-labelledby': 'kb-title', hidden: true },
    h('div', { class: 'kb-header' }, title, fresh, closeButton),
    log,
    form,
    h('p', { class: 'kb-hint', id: 'kb-hint' }, strings.hint),
  );
  const container = h(
    'div',
    {
      class: `kb-root${options.position === 'bottom-left' ? ' kb-left' : ''}`,
      lang: options.language,
      dir: 'ltr',
    },
    launcher,
    panel,
  );
  root.append(container);

  const elements = new Map<Turn, HTMLElement>();
  const pending = new Set<number>();
  let frame = 0;
  let conversation!: Conversation;

  const nearBottom = (): boolean => log.scrollHeight - log.scrollTop - log.clientHeight < STICKY_SCROLL_PX;
  const scrollToEnd = (): void => void (log.scrollTop = log.scrollHeight);
  /**
   * Follows a growing answer, but never past the top of its turn: a long answer then stays readable from
   * its first line while the rest arrives below.
   */
  const follow = (turn: HTMLElement): void => {
    log.scrollTop = Math.min(log.scrollHeight - log.clientHeight, turn.offsetTop - FOLLOW_MARGIN_PX);
  };

  function syncBusy(): void {
    const busy = conversation.busy;
    send.hidden = busy;
    stop.hidden = !busy;
    log.setAttribute('aria-busy', String(busy));
  }

  function viewOf(turn: Turn, index: number): HTMLElement {
    const element = turnView(turn, strings, {
      retry: () => void conversation.retry(index),
      rate: (rating) => void conversation.rate(index, rating),
    });
    elements.set(turn, element);
    return element;
  }

  function renderAll(): void {
    elements.clear();
    const turns = conversation.turns;
    if (turns.length === 0) log.replaceChildren(h('p', { class: 'kb-welcome' }, strings.welcome));
    else log.replaceChildren(...turns.map(viewOf));
    scrollToEnd();
    syncBusy();
  }

  /** Streamed pieces arrive faster than frames: rebuild each changed turn at most once per frame. */
  function renderPending(): void {
    frame = 0;
    const stick = nearBottom();
    const turns = conversation.turns;
    let last: HTMLElement | undefined;
    for (const index of pending) {
      const turn = turns[index];
      const old = turn && elements.get(turn);
      if (turn && old) {
        last = viewOf(turn, index);
        old.replaceWith(last);
      }
    }
    pending.clear();
    if (stick && last) follow(last);
    syncBusy();
  }

  conversation = connect((_turns, changed) => {
    if (changed === undefined) {
      pending.clear();
      renderAll();
      return;
    }
    pending.add(changed);
    frame ||= requestAnimationFrame(renderPending);
  });

  function setOpen(open: boolean): void {
    panel.hidden = !open;
    container.classList.toggle('kb-open', open);
    launcher.setAttribute('aria-expanded', String(open));
    launcher.setAttribute('aria-label', open ? strings.closeLauncher : strings.openLauncher);
    launcher.replaceChildren(icon(open ? 'close' : 'chat'));
  }

  const api: WidgetApi = {
    open() {
      setOpen(true);
      scrollToEnd();
      input.focus();
    },
    close() {
      if (panel.hidden) return;
      setOpen(false);
      launcher.focus();
    },
    ask(text) {
      api.open();
      return conversation.ask(text);
    },
  };

  function submit(): void {
    if (conversation.busy || !input.value.trim()) return;
    const text = input.value;
    input.value = '';
    input.style.height = '';
    void conversation.ask(text);
  }

  launcher.addEventListener('click', () => (panel.hidden ? api.open() : api.close()));
  closeButton.addEventListener('click', () => api.close());
  fresh.addEventListener('click', () => {
    conversation.reset();
    input.focus();
  });
  stop.addEventListener('click', () => {
    conversation.stop();
    input.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (event) => {
    // Enter that confirms an IME candidate (Chinese input) is not a send.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submit();
  });
  input.addEventListener('input', () => {
    input.style.height = '';
    input.style.height = `${Math.min(input.scrollHeight + 2, 140)}px`;
  });
  // On the container, so Esc also closes while focus is on the launcher.
  container.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.isComposing) {
      event.stopPropagation();
      api.close();
    }
  });

  setOpen(false);
  renderAll();
  if (options.open) {
    // Opening on load shows the panel without taking focus from the page (a visitor may be typing).
    setOpen(true);
    scrollToEnd();
  }
  return api;
}
