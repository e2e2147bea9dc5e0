/**
 * o200k_base's pre-tokenizer (gpt-tokenizer's O200K_TOKEN_SPLIT_REGEX) by hand, for the common case of
 * ASCII text. Splitting is the largest single cost of counting English text: the pattern's Unicode
 * property classes, and a match array allocated per `exec`. Measuring the English Vue docs (1 MB) sentence
 * by sentence, warm, best of 15: 53 ms splitting with `exec`, 45 ms with a sticky `test`, 38 ms with this
 * scanner (the first, cold pass is no slower). It decides a piece from ASCII characters alone and gives up
 * (returns -1) wherever a character at or after the piece could be a non-ASCII letter, mark, digit, space
 * or symbol that the pattern might take in; the regex then splits that piece. Pieces are contiguous (the
 * pattern matches at any position), so the two can take turns piece by piece.
 *
 * The pattern, alternatives tried in order (each greedy, with backtracking):
 *   1. [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?:'s|'t|'re|'ve|'m|'ll|'d)?
 *   2. [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?:'s|...)?
 *   3. \p{N}{1,3}
 *   4. ' '?[^\s\p{L}\p{N}]+[\r\n/]*
 *   5. \s*[\r\n]+
 *   6. \s+(?!\S)
 *   7. \s+
 * (contractions case-insensitive). test/text.test.ts checks this scanner against the regex itself.
 */

const UPPER = 1;
const LOWER = 2;
const DIGIT = 3;
/** \s other than \r and \n: space, \t, \v, \f. */
const SPACE = 4;
const NEWLINE = 5;
/** Anything else in ASCII: punctuation, symbols, control characters. */
const OTHER = 6;

const CLASS = new Uint8Array(128).map((_, c) =>
  c >= 65 && c <= 90
    ? UPPER
    : c >= 97 && c <= 122
      ? LOWER
      : c >= 48 && c <= 57
        ? DIGIT
        : c === 10 || c === 13
          ? NEWLINE
          : c === 32 || c === 9 || c === 11 || c === 12
            ? SPACE
            : OTHER,
);

/** The class of text[i]: 0 past the end, -1 for a non-ASCII code unit. */
function classAt(text: string, i: number): number {
  if (i >= text.length) return 0;
  const c = text.charCodeAt(i);
  return c < 128 ? CLASS[c]! : -1;
}

/** After a word ending at `end`: the end of a contraction ('s 't 're 've 'm 'll 'd, any case) there, or `end`. */
function contraction(text: string, end: number): number {
  if (text.charCodeAt(end) !== 39) return end;
  const a = text.charCodeAt(end + 1) | 0x20;
  if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return end + 2; // s t m d
  const b = text.charCodeAt(end + 2) | 0x20;
  if ((a === 0x6c && b === 0x6c) || ((a === 0x76 || a === 0x72) && b === 0x65)) return end + 3; // ll ve re
  return end;
}

/**
 * The end of o200k_base's pre-token starting at `pos` of `text`, when ASCII decides it; -1 when the
 * regex must (a non-ASCII character is involved), or when `pos` is at the end.
 *
 * @example
 * o200kAsciiPieceEnd("Don't stop", 0) // 5: "Don't"
 * o200kAsciiPieceEnd('naïve', 0)      // -1: the word goes on past ASCII
 */
export function o200kAsciiPieceEnd(text: string, pos: number): number {
  const first = classAt(text, pos);
  if (first <= 0) return -1;
  let start = pos;
  if (first !== UPPER && first !== LOWER) {
    // A word may take one leading character that is not a letter, digit or line break (alternatives 1, 2).
    if (first !== DIGIT && first !== NEWLINE) {
      const next = classAt(text, pos + 1);
      if (next < 0) return -1;
      if (next === UPPER || next === LOWER) start = pos + 1;
    }
  }
  if (start > pos || first === UPPER || first === LOWER) {
    // Alternatives 1 and 2 over ASCII: uppercase letters, then lowercase ones, then a contraction.
    let end = start;
    while (classAt(text, end) === UPPER) end++;
    while (classAt(text, end) === LOWER) end++;
    if (classAt(text, end) < 0) return -1; // a non-ASCII letter or mark may continue the word
    return contraction(text, end);
  }
  if (first === DIGIT) {
    let end = pos + 1;
    while (end < pos + 3 && classAt(text, end) === DIGIT) end++;
    return end < pos + 3 && classAt(text, end) < 0 ? -1 : end;
  }
  // Alternative 4: an optional space, symbols, then line breaks and slashes.
  let end = pos;
  if (first === OTHER || (text.charCodeAt(pos) === 32 && classAt(text, pos + 1) === OTHER)) {
    end = first === OTHER ? pos + 1 : pos + 2;
    while (classAt(text, end) === OTHER) end++;
    if (classAt(text, end) < 0) return -1; // non-ASCII symbols may continue the run
    for (let c = text.charCodeAt(end); c === 10 || c === 13 || c === 47; c = text.charCodeAt(++end));
    return end;
  }
  if (text.charCodeAt(pos) === 32 && classAt(text, pos + 1) < 0) return -1;
  // Whitespace (alternatives 5 to 7).
  let lastBreak = -1;
  for (let kind = first; kind === SPACE || kind === NEWLINE; kind = classAt(text, ++end)) {
    if (kind === NEWLINE) lastBreak = end;
  }
  if (classAt(text, end) < 0) return -1; // non-ASCII whitespace may continue the run
  if (lastBreak >= 0) return lastBreak + 1;
  if (end === text.length || end - pos === 1) return end;
  return end - 1; // the last space goes with what follows
}
