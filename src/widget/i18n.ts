/**
 * Every string the widget shows or announces, in English and Simplified Chinese. Host pages choose with
 * `data-lang`; otherwise the visitor's browser language decides.
 */

export interface Strings {
  /** Panel heading when the page sets no `data-title`. */
  title: string;
  /** Textarea placeholder when the page sets no `data-placeholder`. */
  placeholder: string;
  openLauncher: string;
  closeLauncher: string;
  close: string;
  newConversation: string;
  send: string;
  stop: string;
  /** Accessible name of the textarea. */
  question: string;
  /** Accessible name of the message log. */
  conversation: string;
  hint: string;
  welcome: string;
  you: string;
  assistant: string;
  searching: string;
  sources: string;
  /** Accessible name of a citation marker; `{n}` is its number. */
  source: string;
  notFound: string;
  stopped: string;
  retry: string;
  /** Accessible names of the thumbs under an answer. */
  rateUp: string;
  rateDown: string;
  /** Network failure, CORS refusal or a dropped stream. */
  errorNetwork: string;
  /** The server is busy or its model provider is down. */
  errorBusy: string;
  /** The request was refused (unknown knowledge base, bad request). */
  errorRejected: string;
  errorGeneric: string;
  /** Prefix of the server's own message, shown after the translated one. */
  details: string;
}

/** Languages with a complete set of strings. */
export type Language = 'en' | 'zh-CN';

const en: Strings = {
  title: 'Ask the knowledge base',
  placeholder: 'Ask a question…',
  openLauncher: 'Open the knowledge base assistant',
  closeLauncher: 'Close the knowledge base assistant',
  close: 'Close',
  newConversation: 'New conversation',
  send: 'Send',
  stop: 'Stop',
  question: 'Your question',
  conversation: 'Conversation',
  hint: 'Enter to send · Shift+Enter for a new line',
  welcome: 'Ask anything about our documentation. Answers cite their sources.',
  you: 'You',
  assistant: 'Assistant',
  searching: 'Searching the knowledge base…',
  sources: 'Sources',
  source: 'Source {n}',
  notFound: 'Not in the knowledge base',
  stopped: 'Stopped',
  retry: 'Retry',
  rateUp: 'Helpful',
  rateDown: 'Not helpful',
  errorNetwork: 'Could not reach the knowledge base.',
  errorBusy: 'The service is busy right now. Please try again in a moment.',
  errorRejected: 'The knowledge base could not answer this request.',
  errorGeneric: 'Something went wrong.',
  details: 'Details',
};

const zhCN: Strings = {
  title: '知识库问答',
  placeholder: '输入你的问题…',
  openLauncher: '打开知识库助手',
  closeLauncher: '关闭知识库助手',
  close: '关闭',
  newConversation: '新对话',
  send: '发送',
  stop: '停止',
  question: '你的问题',
  conversation: '对话记录',
  hint: 'Enter 发送 · Shift+Enter 换行',
  welcome: '关于我们的文档，尽管提问。回答会注明出处。',
  you: '你',
  assistant: '助手',
  searching: '正在检索知识库…',
  sources: '来源',
  source: '来源 {n}',
  notFound: '知识库中没有相关内容',
  stopped: '已停止',
  retry: '重试',
  rateUp: '有帮助',
  rateDown: '没有帮助',
  errorNetwork: '无法连接知识库。',
  errorBusy: '服务繁忙，请稍后再试。',
  errorRejected: '知识库无法处理这个请求。',
  errorGeneric: '出错了。',
  details: '详情',
};

const STRINGS: Record<Language, Strings> = { en, 'zh-CN': zhCN };

/**
 * The supported language for a BCP 47 tag: any Chinese tag (`zh`, `zh-Hans`, `zh-TW`) gets Simplified
 * Chinese, the only Chinese we have, which Traditional readers understand better than English; anything
 * else gets English.
 *
 * @example
 * pickLanguage('zh-Hans-CN'); // 'zh-CN'
 * pickLanguage('fr-FR'); // 'en'
 */
export function pickLanguage(tag: string | null | undefined): Language {
  return /^zh(?:[-_]|$)/i.test(tag?.trim() ?? '') ? 'zh-CN' : 'en';
}

/**
 * The strings of a language.
 *
 * @example
 * stringsFor('zh-CN').send; // '发送'
 */
export function stringsFor(language: Language): Strings {
  return STRINGS[language];
}

/**
 * Fills `{name}` placeholders.
 *
 * @example
 * format('Source {n}', { n: 2 }); // 'Source 2'
 */
export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => String(values[name] ?? whole));
}
