import { pickLanguage, type Language } from './i18n.ts';

/**
 * The widget's settings, read from the attributes of its `<script>` tag:
 *
 * | attribute | default | meaning |
 * | --- | --- | --- |
 * | `data-kb` | `default` | knowledge base to ask |
 * | `data-key` | none | sent as `Authorization: Bearer KEY` |
 * | `data-title` | translated "Ask the knowledge base" | panel heading |
 * | `data-placeholder` | translated "Ask a question…" | textarea placeholder |
 * | `data-lang` | `navigator.language` | `en` or `zh-CN` (any `zh-*`); others fall back to English |
 * | `data-position` | `bottom-right` | or `bottom-left` |
 * | `data-primary-color` | `#2563eb` | any CSS colour, for the launcher, buttons and questions |
 * | `data-open` | closed | present (and not `false`) to open the panel on load |
 * | `data-api` | the folder the script was loaded from | base URL of the service; `/ask` is resolved against it |
 */

export interface WidgetOptions {
  kb: string;
  key: string | undefined;
  title: string | undefined;
  placeholder: string | undefined;
  language: Language;
  position: 'bottom-right' | 'bottom-left';
  primaryColor: string | undefined;
  open: boolean;
  /** Base URL of the service, ending with `/`. */
  api: string;
}

/** Reads one attribute; empty counts as absent. */
export type AttributeReader = (name: string) => string | null;

function nonEmpty(value: string | null): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** A base URL that `new URL('ask', base)` resolves under, not beside: `https://x/kb` becomes `https://x/kb/`. */
function asBase(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * Settings from the script tag's attributes.
 *
 * @param attribute reads an attribute of the script tag
 * @param scriptUrl the script's own URL (`document.currentScript.src`), for the default `data-api`
 * @param browserLanguage `navigator.language`, for the default `data-lang`
 * @param isColor whether a string is a valid CSS colour (`CSS.supports('color', value)` in a browser)
 * @example
 * readOptions((n) => script.getAttribute(n), script.src, navigator.language, (c) => CSS.supports('color', c));
 */
export function readOptions(
  attribute: AttributeReader,
  scriptUrl: string,
  browserLanguage: string | undefined,
  isColor: (value: string) => boolean,
): WidgetOptions {
  const api = nonEmpty(attribute('data-api'));
  // The script's folder rather than its origin, so a service mounted under a path prefix works too.
  const base = api ? new URL(api, scriptUrl).href : new URL('.', scriptUrl).href;
  const color = nonEmpty(attribute('data-primary-color'));
  const open = attribute('data-open');
  return {
    kb: nonEmpty(attribute('data-kb')) ?? 'default',
    key: nonEmpty(attribute('data-key')),
    title: nonEmpty(attribute('data-title')),
    placeholder: nonEmpty(attribute('data-placeholder')),
    language: pickLanguage(nonEmpty(attribute('data-lang')) ?? browserLanguage),
    position: attribute('data-position')?.trim() === 'bottom-left' ? 'bottom-left' : 'bottom-right',
    primaryColor: color && isColor(color) ? color : undefined,
    open: open !== null && open.trim().toLowerCase() !== 'false',
    api: asBase(base),
  };
}
