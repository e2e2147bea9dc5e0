/**
 * The language knowledge of the local embedder: which code units make words, how they fold, which words
 * carry no meaning, and a light English stemmer. Everything works on UTF-16 code units so the hasher
 * (local-hasher.ts) never allocates a string per word. Changing anything here changes the vectors:
 * bump `LOCAL_MODEL` in local.ts when you do.
 */

/** Code unit classes. */
export const SEPARATOR = 1;
/** A letter or digit: part of a word. */
export const WORD = 2;
/** Han, kana, Hangul: each character is a token of its own (no spaces between words). */
export const CJK = 3;
/** Combining marks, apostrophes, soft hyphens and joiners: ignored, without ending the word. */
export const SKIP = 4;

const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー]/u;
const WORD_CHAR = /[\p{L}\p{N}]/u;
const SKIP_CHAR = /[\p{M}'\u2019\u00ad\u200c\u200d]/u;
const MARKS = /\p{M}/gu;

/** The lookup tables of `charTables()`. */
export interface CharTables {
  /** Class of each BMP code unit (`SEPARATOR`, `WORD`, `CJK`, `SKIP`); 0 = not classified yet. */
  classes: Uint8Array;
  /** Folded form of each classified code unit. */
  folds: Uint16Array;
  /** Fills both tables' entries for `code`; call when `classes[code] === 0`. */
  classifyInto: (code: number) => void;
}

let tables: CharTables | undefined;

function classify(code: number, classTable: Uint8Array, foldTable: Uint16Array): void {
  const char = String.fromCharCode(code);
  // Surrogates are classified by the hasher, which sees both halves; alone they separate.
  if (code >= 0xd800 && code <= 0xdfff) {
    classTable[code] = SEPARATOR;
    foldTable[code] = code;
    return;
  }
  // Fold like NFKC + lower case + accent removal, so "ＡＰＩ", "Api" and "api" (or "café" and "cafe")
  // are one word; kept only when the result is one code unit ("ﬁ" stays itself).
  const folded = char.normalize('NFKC').toLowerCase().normalize('NFD').replace(MARKS, '');
  const target = folded.length === 1 ? folded : char.toLowerCase().length === 1 ? char.toLowerCase() : char;
  foldTable[code] = target.charCodeAt(0);
  classTable[code] = CJK_CHAR.test(char)
    ? CJK
    : SKIP_CHAR.test(char)
      ? SKIP
      : WORD_CHAR.test(target)
        ? WORD
        : SEPARATOR;
}

/**
 * The class and folded form of every BMP code unit, built on first use (about 256 KB; entries are
 * computed lazily, since most texts touch only a few hundred distinct code units).
 *
 * @example
 * const { classes, folds } = charTables();
 * classes[0x41] === WORD && folds[0x41] === 0x61 // 'A' is a word character folding to 'a'
 */
export function charTables(): CharTables {
  if (!tables) {
    const classes = new Uint8Array(0x10000);
    const folds = new Uint16Array(0x10000);
    for (let code = 0; code < 0x80; code++) classify(code, classes, folds);
    tables = { classes, folds, classifyInto: (code) => classify(code, classes, folds) };
  }
  return tables;
}
/**
 * English stop words, dropped before hashing: they occur everywhere, so without IDF (see local.ts) they
 * would dominate every vector. A superset of the full-text search list in src/text/segment.ts.
 */
export const ENGLISH_STOP_WORDS: readonly string[] = (
  'a about above after again against all also am an and any are as at be because been before being below ' +
  'between both but by can could did do does doing down during each few for from further had has have ' +
  'having he her here hers herself him himself his how i if in into is it its itself just me more most my ' +
  'myself no nor not now of off on once only or other our ours ourselves out over own same she should so ' +
  'some such than that the their theirs them themselves then there these they this those through to too ' +
  'under until up very was we were what when where which while who whom why will with would you your ' +
  'yours yourself yourselves'
).split(' ');

/**
 * Chinese and Japanese function characters whose unigrams are dropped (their bigrams are kept: "的确" is
 * a word). The CJK analogue of stop words.
 */
export const CJK_STOP_CHARS: readonly string[] = Array.from(
  '的了是在和也有就都而及与着或等被把这那之其为以于个们我你他她它吗呢吧啊のにはをがでとも',
);

const A = 0x61;
const E = 0x65;
const I = 0x69;
const O = 0x6f;
const U = 0x75;
const Y = 0x79;
const S = 0x73;
const D = 0x64;
const G = 0x67;
const L = 0x6c;
const N = 0x6e;
const Z = 0x7a;

function isVowel(c: number | undefined): boolean {
  return c === A || c === E || c === I || c === O || c === U;
}

function hasVowel(w: Uint16Array, end: number): boolean {
  for (let i = 0; i < end; i++) if (isVowel(w[i]) || (i > 0 && w[i] === Y)) return true;
  return false;
}

function endsWith(w: Uint16Array, len: number, suffix: string): boolean {
  if (len < suffix.length) return false;
  for (let i = 0; i < suffix.length; i++) {
    if (w[len - suffix.length + i] !== suffix.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * A light English stemmer over lower-case ASCII letters in `w[0..len)`, in place; returns the new length.
 * In order (Porter's step 1 simplified, plus two rules):
 * 1. plurals: -sses → -ss, -ies → -y, -s → '' (not after s, u or i: "class", "status", "analysis");
 * 2. -eed → -ee after two letters or more ("agreed"; "need" stays); -ied → -y; -ing and -ed go when a vowel remains, then a doubled final consonant other
 *    than l, s, z is undoubled ("running" → "run");
 * 3. -ly goes from words of six letters or more ("quickly" → "quick");
 * 4. a final -e goes from words of three letters or more, so "make" and "making" both give "mak".
 * Words of three letters or fewer are left alone. Wrong stems are harmless as long as they are
 * consistent; the character n-grams catch what the stemmer misses.
 *
 * @example
 * const w = Uint16Array.from('studies', (c) => c.charCodeAt(0));
 * stem(w, 7) // 5: w now starts with 'study'
 */
export function stem(w: Uint16Array, len: number): number {
  if (len <= 3) return len;
  if (endsWith(w, len, 'sses')) len -= 2;
  else if (endsWith(w, len, 'ies') && len > 4) {
    w[len - 3] = Y;
    len -= 2;
  } else if (w[len - 1] === S && w[len - 2] !== S && w[len - 2] !== U && w[len - 2] !== I) len -= 1;

  if (endsWith(w, len, 'eed')) {
    // "agreed" → "agree", but "need" and "feed" stay whole.
    if (len > 4) len -= 1;
  } else if (len > 4 && endsWith(w, len, 'ied')) {
    w[len - 3] = Y;
    len -= 2;
  } else if (len > 4 && w[len - 1] === G && w[len - 2] === N && w[len - 3] === I && hasVowel(w, len - 3)) {
    len = undouble(w, len - 3);
  } else if (len > 3 && w[len - 1] === D && w[len - 2] === E && hasVowel(w, len - 2)) {
    len = undouble(w, len - 2);
  } else if (len >= 6 && w[len - 1] === Y && w[len - 2] === L) {
    len -= 2;
  }
  if (len >= 3 && w[len - 1] === E) len -= 1;
  return len;
}

function undouble(w: Uint16Array, len: number): number {
  const last = w[len - 1];
  if (len >= 3 && last === w[len - 2] && !isVowel(last) && last !== L && last !== S && last !== Z)
    return len - 1;
  return len;
}
