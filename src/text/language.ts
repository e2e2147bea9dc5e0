/**
 * Which language a question is written in, so that fixed replies ("nothing found") can be given in it.
 * Only the languages the product has replies for are told apart; everything else counts as English.
 */

/** `ja` is Japanese (kana present), `zh` Chinese, `en` English and anything else. */
export type Language = 'en' | 'zh' | 'ja';

const HAN = /\p{Script=Han}/gu;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}ー]/gu;
/** Words in any other script: Latin identifiers, English words, Cyrillic, ... */
const OTHER_WORD = /[^\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}ー\P{L}]+/gu;

/**
 * The share of CJK characters, against other-script words counted twice each, from which a text is CJK.
 * Questions in Chinese often quote identifiers ("使用 TypeScript 和 defineComponent 定义组件": 6 Han
 * characters, 2 words, share 0.6) while English questions rarely quote Chinese ("What does 知识库 mean?":
 * 3 characters, 3 words, share 0.33). Counting letters instead would call the first English (6 of 31).
 */
const CJK_SHARE = 0.35;
/** The share of kana among CJK characters from which CJK text is Japanese; Chinese has none. */
const KANA_SHARE = 0.1;

function occurrences(text: string, pattern: RegExp): number {
  let n = 0;
  for (const _ of text.matchAll(pattern)) n++;
  return n;
}

/**
 * The language of a question: `zh` or `ja` when CJK characters carry a meaningful share of it (`ja` when
 * kana are among them), otherwise `en`. Korean and other languages come out as `en`.
 *
 * @example
 * detectLanguage('如何配置代理？') // 'zh'
 * detectLanguage('ref 和 reactive 有什么区别？') // 'zh'
 * detectLanguage('プロキシの設定方法は？') // 'ja'
 * detectLanguage('How do I configure 代理?') // 'en'
 */
export function detectLanguage(text: string): Language {
  const han = occurrences(text, HAN);
  const kana = occurrences(text, KANA);
  const cjk = han + kana;
  if (cjk === 0) return 'en';
  const words = occurrences(text, OTHER_WORD);
  if (cjk / (cjk + 2 * words) < CJK_SHARE) return 'en';
  return kana / cjk >= KANA_SHARE ? 'ja' : 'zh';
}
