/**
 * The page served at `GET /`: what the service is, in English and Chinese, how to embed the widget, and
 * the widget itself, so a newcomer sees it answer right after the quick start.
 */

export interface DemoPageOptions {
  /** The service's origin as the browser reached it, for the copyable script tag. */
  origin: string;
  /** The widget's language on this page; default: the visitor's browser language. */
  lang?: 'en' | 'zh-CN' | undefined;
  /** Knowledge base the demo asks. */
  kb: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Escapes text for HTML content and quoted attribute values.
 *
 * @example
 * escapeHtml('<b a="1">'); // '&lt;b a=&quot;1&quot;&gt;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);
}

const STYLE = `
body { margin: 0; font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "PingFang SC", "Microsoft YaHei", sans-serif; color: #1f2430; background: #f7f8fa; }
main { max-width: 760px; margin: 0 auto; padding: 48px 24px 120px; }
h1 { font-size: 32px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 36px 0 8px; }
.lead { font-size: 18px; color: #475467; margin: 0 0 4px; }
pre { background: #1f2430; color: #e6e8ec; padding: 14px 16px; border-radius: 10px; overflow-x: auto; font-size: 14px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
p code, li code, td code { background: #eaecf0; padding: 1px 5px; border-radius: 4px; font-size: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; } td, th { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e4e7ec; vertical-align: top; }
.try { display: flex; flex-wrap: wrap; gap: 8px; } .try button { font: inherit; padding: 8px 14px; border-radius: 999px; border: 1px solid #2563eb; background: #fff; color: #2563eb; cursor: pointer; }
.try button:hover { background: #eff4ff; }
nav { font-size: 14px; margin-bottom: 28px; } nav a { color: #2563eb; }
@media (prefers-color-scheme: dark) {
  body { background: #111318; color: #e6e8ec; } .lead { color: #98a2b3; } p code, li code, td code { background: #2f3542; }
  td, th { border-color: #2f3542; } .try button { background: #181b22; }
}`;

const ATTRIBUTES: [string, string][] = [
  ['data-kb', 'knowledge base to ask (default <code>default</code>) · 知识库名称'],
  ['data-key', 'sent as <code>Authorization: Bearer …</code> · 访问密钥'],
  ['data-title', 'panel title · 面板标题'],
  ['data-placeholder', 'input placeholder · 输入框提示文字'],
  ['data-lang', '<code>en</code> or <code>zh-CN</code> (default: the browser language) · 界面语言'],
  ['data-position', '<code>bottom-right</code> or <code>bottom-left</code> · 按钮位置'],
  ['data-primary-color', 'any CSS colour · 主题色'],
  ['data-open', 'open the panel on load · 加载后自动打开'],
  ['data-api', 'service URL (default: where widget.js came from) · 服务地址'],
];

/**
 * The demo page's HTML. Every dynamic value is escaped.
 *
 * @example
 * c.html(demoPage({ origin: 'http://127.0.0.1:8787', kb: 'default' }));
 */
export function demoPage(options: DemoPageOptions): string {
  const origin = escapeHtml(options.origin);
  const kb = escapeHtml(options.kb);
  const lang = options.lang ? ` data-lang="${options.lang}"` : '';
  const tag = `<script src="${options.origin}/widget.js" data-kb="${options.kb}" defer></script>`;
  const rows = ATTRIBUTES.map(
    ([name, meaning]) => `<tr><td><code>${name}</code></td><td>${meaning}</td></tr>`,
  ).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kb-answers · 知识库问答</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<nav><a href="/?lang=en">English widget</a> · <a href="/?lang=zh-CN">中文界面</a></nav>
<h1>kb-answers</h1>
<p class="lead">Answers from your own documents, with sources. · 基于你自己的文档回答问题，并注明出处。</p>
<p>This service has ingested a folder of documents (Markdown, HTML, PDF, DOCX, text) and answers questions
about them, citing the passages it used. The assistant in the corner of this page is the embeddable widget:
open it and ask.</p>
<p>本服务已导入一个文档目录（Markdown、HTML、PDF、DOCX、纯文本），可以就其内容回答问题，并标注引用的段落。
页面角落的助手就是可嵌入的小组件：点开它，直接提问。</p>

<h2>Try it · 试一试</h2>
<div class="try">
<button type="button" data-ask="How do I rebuild a knowledge base?">How do I rebuild a knowledge base?</button>
<button type="button" data-ask="如何重建知识库？">如何重建知识库？</button>
</div>

<h2>Embed it · 嵌入到你的网站</h2>
<p>Add one line to any page. Its origin must be listed in <code>WIDGET_ORIGINS</code> on this server.<br>
在任意页面加入一行代码；该页面的来源（origin）需要写入服务器的 <code>WIDGET_ORIGINS</code>。</p>
<pre><code>${escapeHtml(tag)}</code></pre>
<table><thead><tr><th>attribute · 属性</th><th>meaning · 含义</th></tr></thead><tbody>${rows}</tbody></table>
<p>From a page script: <code>KbWidget.open()</code>, <code>KbWidget.close()</code>, <code>KbWidget.ask(text)</code>.</p>

<h2>API</h2>
<pre><code>curl -s ${origin}/ask -H 'content-type: application/json' -d '{"question":"How do I rebuild a knowledge base?","kb":"${kb}"}'</code></pre>
<p><code>POST /ask</code> answers as JSON, or as server-sent events with <code>"stream": true</code>.
<code>GET /health</code> and <code>GET /ready</code> report the service's state.</p>
</main>
<script src="/widget.js" data-kb="${kb}"${lang} defer></script>
<script>
document.querySelectorAll('[data-ask]').forEach(function (button) {
  button.addEventListener('click', function () { window.KbWidget && window.KbWidget.ask(button.getAttribute('data-ask')); });
});
</script>
</body>
</html>
`;
}
