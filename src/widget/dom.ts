/**
 * A tiny element builder and the widget's icons. Text goes in through `textContent` only; no function
 * here accepts markup.
 */

type Child = Node | string | false | null | undefined;

/**
 * Creates an element with attributes (a `false`/`undefined` value leaves the attribute out) and children
 * (strings become text nodes).
 *
 * @example
 * h('button', { type: 'button', class: 'kb-send', 'aria-label': strings.send }, icon('send'));
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) element.setAttribute(name, '');
    else if (typeof value === 'string') element.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    element.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

/** 24×24 outline icons (paths drawn for this widget). */
const ICONS = {
  chat: 'M4 5h16v11H9l-5 4z',
  close: 'M6 6l12 12M18 6L6 18',
  send: 'M4 12l16-8-6 16-2.5-6.5z',
  stop: 'M7 7h10v10H7z',
  plus: 'M12 5v14M5 12h14',
};

export type IconName = keyof typeof ICONS;

/**
 * An inline SVG icon, hidden from assistive technology (its button carries the label).
 *
 * @example
 * button.append(icon('close'));
 */
export function icon(name: IconName): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.appendChild(path);
  return svg;
}
