/**
 * Citation markers: `[n]` (and `[n, m]`) in an answer must name a source actually given. Markers with no
 * valid number are removed with the space before them; invalid numbers are dropped from a list.
 */
const MARKER = /(\s?)\[(\d+(?:\s*,\s*\d+)*)\]/g;
/** The tail that can still become (part of) a marker: a space, `[`, `[1`, `[1, 2` ... */
const PARTIAL_MARKER = /\s?(?:\[[\d,\s]*)?$/;
const LONGEST_MARKER = 32;

function fixMarkers(text: string, sourceCount: number): string {
  return text.replace(MARKER, (_, space: string, list: string) => {
    const valid = list
      .split(',')
      .map((n) => Number(n.trim()))
      .filter((n) => Number.isInteger(n) && n >= 1 && n <= sourceCount);
    return valid.length === 0 ? '' : `${space}[${[...new Set(valid)].join(', ')}]`;
  });
}

/**
 * Removes citation markers that name no source.
 *
 * @example
 * cleanCitations('Yes [1] and no [9].', 2) // 'Yes [1] and no.'
 */
export function cleanCitations(text: string, sourceCount: number): string {
  return fixMarkers(text, sourceCount);
}

export interface CitationFilter {
  /** Takes the next piece of a streamed answer; returns the text that is safe to send now. */
  push(piece: string): string;
  /** Returns whatever was held back at the end of the stream. */
  flush(): string;
}

/**
 * `cleanCitations` for a stream: a marker split across pieces (`"see [1"`, `"2]"`) is held back until it is
 * complete, so a client never shows a marker that is removed later. At most a short tail is held.
 *
 * @example
 * const filter = createCitationFilter(3);
 * filter.push('Yes [') + filter.push('9] ok') + filter.flush() // 'Yes ok'
 */
export function createCitationFilter(sourceCount: number): CitationFilter {
  let pending = '';
  return {
    push(piece) {
      const text = pending + piece;
      const partial = PARTIAL_MARKER.exec(text);
      const cut = partial && text.length - partial.index <= LONGEST_MARKER ? partial.index : text.length;
      pending = text.slice(cut);
      return fixMarkers(text.slice(0, cut), sourceCount);
    },
    flush() {
      const rest = fixMarkers(pending, sourceCount);
      pending = '';
      return rest;
    },
  };
}
