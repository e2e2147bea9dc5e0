/**
 * Masks personal data and secrets in a log line, so a question quoted in an error, a header echoed by a
 * provider or a key pasted into a field never reaches the log store. Applied by the logger to every line
 * (after JSON encoding, so each replacement stays inside its JSON string).
 *
 * Order matters: Chinese resident ID numbers (18 digits) go before mobile numbers (11), which would
 * otherwise match inside them.
 */

interface Rule {
  pattern: RegExp;
  replace: string | ((match: string) => string);
}

/** Looks like a secret: long, and mixing letters with digits (plain words and numbers are not keys). */
function maskToken(token: string): string {
  // Request ids are UUIDs by default: they must stay in the log to be useful.
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(token)) return token;
  return /[A-Za-z]/.test(token) && /\d/.test(token) ? '[key]' : token;
}

const RULES: readonly Rule[] = [
  { pattern: /\bBearer\s+[A-Za-z0-9._~+/=-]+/g, replace: 'Bearer [key]' },
  // Provider-style keys (`sk-…`, `sk-proj-…`, `pk_live_…`) however short their tail.
  { pattern: /\b(?:sk|pk|rk)[-_][A-Za-z0-9_-]{8,}/g, replace: '[key]' },
  { pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, replace: '[email]' },
  // Resident ID: 6-digit region, birth date 18xx-20xx, 3 digits, checksum digit or X.
  {
    pattern:
      /(?<![\dA-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![\dA-Za-z])/g,
    replace: '[id]',
  },
  // Chinese mobile numbers, with or without +86.
  { pattern: /(?<![\dA-Za-z])(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?![\dA-Za-z])/g, replace: '[phone]' },
  // International numbers written with a leading +, and the common 3-3-4 style.
  { pattern: /(?<![\w+])\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?![\w])/g, replace: '[phone]' },
  { pattern: /(?<![\w-])\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?![\w-])/g, replace: '[phone]' },
  { pattern: /[A-Za-z0-9_-]{32,}/g, replace: maskToken },
];

/** A cheap first look: lines without any of these characters cannot match a rule. */
const MAYBE = /[@\d]|Bearer|[A-Za-z0-9_-]{32}/;

/**
 * Returns `text` with e-mail addresses, phone numbers, Chinese resident ID numbers and key-shaped strings
 * replaced by `[email]`, `[phone]`, `[id]` and `[key]`.
 *
 * @example
 * redact('mail ops@example.com or call 13812345678'); // 'mail [email] or call [phone]'
 */
export function redact(text: string): string {
  if (!MAYBE.test(text)) return text;
  let out = text;
  for (const rule of RULES) out = out.replace(rule.pattern, rule.replace as string);
  return out;
}
