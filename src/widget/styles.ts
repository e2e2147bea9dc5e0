/**
 * The widget's stylesheet, applied inside its shadow root, where no rule of the host page reaches.
 *
 * Inherited properties (font, colour, line height…) still flow into a shadow tree through its host, so
 * `:host` resets everything with `all: initial !important`: across a shadow boundary, an `!important`
 * declaration of the inner tree beats the page's, even the page's `!important` ones.
 *
 * Colours are custom properties: `--kb-primary` comes from `data-primary-color` (set on the host), and
 * the palette switches with `prefers-color-scheme`.
 */
export const WIDGET_CSS = `
:host {
  all: initial !important;
  display: block !important;
  position: fixed !important;
  inset: auto !important;
  width: 0 !important;
  height: 0 !important;
  overflow: visible !important;
  visibility: visible !important;
  opacity: 1 !important;
  transform: none !important;
  filter: none !important;
  z-index: 2147483000 !important;
}
.kb-root {
  --kb-primary-default: #2563eb;
  --kb-on-primary: #fff;
  --kb-bg: #fff;
  --kb-fg: #1f2430;
  --kb-muted: #667085;
  --kb-border: #e4e7ec;
  --kb-surface: #f2f4f7;
  --kb-code: #eaecf0;
  --kb-error: #b42318;
  --kb-error-bg: #fef3f2;
  --kb-shadow: 0 16px 48px rgba(16, 24, 40, .22), 0 2px 6px rgba(16, 24, 40, .08);
  --kb-p: var(--kb-primary, var(--kb-primary-default));
  /** Links and citation markers: the primary colour, lightened on dark backgrounds. */
  --kb-link: var(--kb-p);
  font: 15px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif;
  color: var(--kb-fg);
  -webkit-font-smoothing: antialiased;
  text-align: start;
}
@media (prefers-color-scheme: dark) {
  .kb-root {
    --kb-bg: #181b22;
    --kb-fg: #e6e8ec;
    --kb-muted: #98a2b3;
    --kb-border: #2f3542;
    --kb-surface: #242935;
    --kb-code: #2f3542;
    --kb-error: #fda29b;
    --kb-error-bg: #3a1d1b;
    --kb-shadow: 0 16px 48px rgba(0, 0, 0, .55);
    --kb-link: color-mix(in srgb, var(--kb-p) 55%, #fff);
  }
}
*, *::before, *::after { box-sizing: border-box; }
button, textarea { font: inherit; color: inherit; margin: 0; }
button { cursor: pointer; border: 0; background: none; padding: 0; }
svg { width: 20px; height: 20px; fill: none; stroke: currentColor; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }
:focus-visible { outline: 2px solid var(--kb-p); outline-offset: 2px; }
[hidden] { display: none !important; }
.kb-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }

.kb-launcher {
  position: fixed; bottom: 20px; right: 20px;
  width: 56px; height: 56px; border-radius: 50%;
  display: grid; place-items: center;
  background: var(--kb-p); color: var(--kb-on-primary);
  box-shadow: var(--kb-shadow);
  transition: transform .15s ease;
}
.kb-launcher:hover { transform: scale(1.05); }
.kb-launcher svg { width: 26px; height: 26px; }
.kb-left .kb-launcher { right: auto; left: 20px; }

.kb-panel {
  position: fixed; bottom: 88px; right: 20px;
  width: 390px; height: min(640px, calc(100vh - 112px));
  display: flex; flex-direction: column;
  background: var(--kb-bg); color: var(--kb-fg);
  border: 1px solid var(--kb-border); border-radius: 16px;
  box-shadow: var(--kb-shadow); overflow: hidden;
}
.kb-left .kb-panel { right: auto; left: 20px; }

.kb-header {
  display: flex; align-items: center; gap: 4px;
  padding: 10px 8px 10px 16px;
  background: var(--kb-p); color: var(--kb-on-primary);
}
.kb-title { flex: 1; margin: 0; font-size: 16px; font-weight: 600; line-height: 1.3; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.kb-icon-button { width: 36px; height: 36px; border-radius: 8px; display: grid; place-items: center; }
.kb-icon-button:hover { background: rgba(255, 255, 255, .16); }
.kb-header :focus-visible { outline-color: var(--kb-on-primary); outline-offset: -2px; }

.kb-log {
  flex: 1; overflow-y: auto; overscroll-behavior: contain; position: relative;
  padding: 16px; display: flex; flex-direction: column; gap: 14px;
}
.kb-welcome { margin: auto 8px; text-align: center; color: var(--kb-muted); font-size: 14px; }
.kb-turn { display: flex; flex-direction: column; gap: 8px; }
.kb-msg { max-width: 88%; padding: 9px 13px; border-radius: 16px; overflow-wrap: anywhere; }
.kb-user {
  align-self: flex-end; white-space: pre-wrap;
  background: var(--kb-p); color: var(--kb-on-primary); border-bottom-right-radius: 4px;
}
.kb-bot { align-self: flex-start; max-width: 94%; background: var(--kb-surface); border-bottom-left-radius: 4px; }
.kb-notfound { background: transparent; border: 1px dashed var(--kb-muted); color: var(--kb-muted); }
.kb-badge { margin: 0 0 4px; font-size: 12px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
.kb-failed { background: var(--kb-error-bg); }
.kb-error-text { margin: 0; color: var(--kb-error); font-weight: 500; }
.kb-note { margin: 6px 0 0; font-size: 12.5px; color: var(--kb-muted); }
.kb-typing { margin: 0; color: var(--kb-muted); animation: kb-pulse 1.4s ease-in-out infinite; }
@keyframes kb-pulse { 50% { opacity: .45; } }
.kb-retry {
  margin-top: 8px; padding: 5px 14px; border-radius: 999px;
  border: 1px solid var(--kb-error); color: var(--kb-error); font-size: 13.5px; font-weight: 500;
}
.kb-retry:hover { background: var(--kb-bg); }
.kb-rating { display: flex; gap: 4px; margin-top: 6px; }
.kb-rate {
  padding: 2px 8px; border-radius: 999px; border: 1px solid transparent; font-size: 14px; line-height: 1.4;
  opacity: .55; background: transparent;
}
.kb-rate:hover, .kb-rate:focus-visible { opacity: 1; border-color: var(--kb-muted); }
.kb-rate[aria-pressed="true"] { opacity: 1; border-color: var(--kb-p); }

.kb-md p, .kb-md ul, .kb-md ol, .kb-md pre, .kb-md blockquote { margin: 0 0 .6em; }
.kb-md > :last-child { margin-bottom: 0; }
.kb-md ul, .kb-md ol { padding-left: 1.3em; }
.kb-md li + li { margin-top: .2em; }
.kb-md a, .kb-source a { color: var(--kb-link); text-decoration: underline; text-underline-offset: 2px; }
.kb-md code { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--kb-code); padding: .1em .35em; border-radius: 5px; }
.kb-md pre { background: var(--kb-code); padding: 10px 12px; border-radius: 8px; overflow-x: auto; }
.kb-md pre code { padding: 0; background: none; white-space: pre; }
.kb-md blockquote { border-left: 3px solid var(--kb-border); padding-left: 10px; color: var(--kb-muted); }
.kb-md hr { border: 0; border-top: 1px solid var(--kb-border); }

.kb-cite {
  display: inline-block; min-width: 1.45em; padding: 0 .3em; margin: 0 1px;
  font-size: .72em; line-height: 1.45em; font-weight: 600; text-align: center; vertical-align: .3em;
  border-radius: 999px; color: var(--kb-link);
  background: rgba(37, 99, 235, .12);
  background: color-mix(in srgb, var(--kb-p) 14%, transparent);
}
.kb-cite:hover { background: color-mix(in srgb, var(--kb-p) 26%, transparent); }

.kb-sources { margin-top: 10px; padding-top: 8px; border-top: 1px solid var(--kb-border); font-size: 13px; }
.kb-sources-title { margin: 0 0 4px; font-size: 12px; font-weight: 600; color: var(--kb-muted); text-transform: uppercase; letter-spacing: .04em; }
.kb-sources ol { margin: 0; padding-left: 1.5em; }
.kb-source { padding: 2px 4px; margin-left: -4px; border-radius: 6px; }
.kb-source + .kb-source { margin-top: 3px; }
.kb-source::marker { color: var(--kb-muted); font-weight: 600; }
.kb-source-title { font-weight: 500; }
.kb-source-heading { display: block; color: var(--kb-muted); font-size: 12px; }
.kb-flash { animation: kb-flash 1.6s ease-out; }
@keyframes kb-flash { from { background: color-mix(in srgb, var(--kb-p) 28%, transparent); } }

.kb-composer { display: flex; align-items: flex-end; gap: 8px; padding: 12px 12px 6px; border-top: 1px solid var(--kb-border); }
.kb-input {
  flex: 1; min-height: 42px; max-height: 140px; resize: none;
  padding: 9px 12px; border: 1px solid var(--kb-border); border-radius: 12px;
  background: var(--kb-bg); line-height: 1.45; outline: none;
}
.kb-input:focus { border-color: var(--kb-p); box-shadow: 0 0 0 3px color-mix(in srgb, var(--kb-p) 20%, transparent); }
.kb-input::placeholder { color: var(--kb-muted); }
.kb-action { flex: none; width: 42px; height: 42px; border-radius: 50%; display: grid; place-items: center; background: var(--kb-p); color: var(--kb-on-primary); }
.kb-action:disabled { opacity: .45; cursor: default; }
.kb-stop { background: var(--kb-fg); color: var(--kb-bg); }
.kb-hint { margin: 0; padding: 0 14px 10px; font-size: 11.5px; color: var(--kb-muted); }

@media (max-width: 480px) {
  .kb-panel, .kb-left .kb-panel { inset: 0; width: 100%; height: 100%; border: 0; border-radius: 0; }
  .kb-open .kb-launcher { display: none; }
}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; }
}
`;
