import { createConversation } from './conversation.ts';
import { stringsFor } from './i18n.ts';
import { readOptions } from './options.ts';
import { createPanel, type WidgetApi } from './panel.ts';
import { storageKey, type KeyValueStorage } from './storage.ts';
import { sendFeedback } from './feedback.ts';
import { askStream } from './stream.ts';
import { WIDGET_CSS } from './styles.ts';

/**
 * The widget's entry, bundled to `/widget.js`:
 * `<script src="https://kb.example/widget.js" data-kb="hr" defer></script>`.
 *
 * It renders into the shadow root of a `<kb-answers-widget>` element (a custom tag, so page rules aimed at
 * `div` or `button` never match the host) and defines one global, `window.KbWidget`. A second copy of
 * the script finds that global and does nothing.
 */

declare global {
  interface Window {
    KbWidget?: WidgetApi;
  }
}

const HOST_TAG = 'kb-answers-widget';

/** The script tag: `currentScript` while it runs, else (odd loaders) the last tag loading widget.js. */
function findScript(): HTMLScriptElement | undefined {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement && current.src) return current;
  const tags = document.querySelectorAll<HTMLScriptElement>('script[src*="widget.js"]');
  return tags[tags.length - 1];
}

/** `localStorage`, or undefined where reading it throws (storage blocked, sandboxed frames). */
function localStorageOrNone(): KeyValueStorage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

/** Styles through a constructed sheet where supported: a page's CSP cannot block it as inline style. */
function applyStyles(shadow: ShadowRoot): void {
  if ('adoptedStyleSheets' in shadow && 'replaceSync' in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = WIDGET_CSS;
    shadow.appendChild(style);
  }
}

function mount(script: HTMLScriptElement | undefined): WidgetApi {
  const options = readOptions(
    (name) => script?.getAttribute(name) ?? null,
    script?.src || document.baseURI,
    navigator.language,
    (value) => typeof CSS !== 'undefined' && CSS.supports('color', value),
  );
  const host = document.createElement(HOST_TAG);
  if (options.primaryColor) host.style.setProperty('--kb-primary', options.primaryColor);
  const shadow = host.attachShadow({ mode: 'open' });
  applyStyles(shadow);
  document.body.appendChild(host);

  const url = new URL('ask', options.api).href;
  const feedbackUrl = new URL('feedback', options.api).href;
  const storage = localStorageOrNone();
  return createPanel(shadow, options, stringsFor(options.language), (onChange) =>
    createConversation({
      ask: (request, signal) => askStream({ url, key: options.key, request, signal }),
      kb: options.kb,
      rate: (answerId, rating) => sendFeedback({ url: feedbackUrl, key: options.key, answerId, rating }),
      storage,
      storageKey: storageKey(options.api, options.kb),
      onChange,
    }),
  );
}

function install(): void {
  if (window.KbWidget) return;
  // Read now: `currentScript` is only set while this script runs.
  const script = findScript();
  let api: WidgetApi | undefined;
  const waiting: ((api: WidgetApi) => void)[] = [];
  // Calls made before the page has a body wait for the widget instead of failing.
  const ready = (): Promise<WidgetApi> =>
    api ? Promise.resolve(api) : new Promise((resolve) => waiting.push(resolve));
  window.KbWidget = Object.freeze({
    open: () => (api ? api.open() : void ready().then((a) => a.open())),
    close: () => (api ? api.close() : void ready().then((a) => a.close())),
    ask: (text: string) => ready().then((a) => a.ask(text)),
  });
  const start = (): void => {
    api = mount(script);
    for (const resolve of waiting.splice(0)) resolve(api);
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start, { once: true });
}

install();
