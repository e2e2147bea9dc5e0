import { describe, expect, it } from 'vitest';
import { cleanCitations, createCitationFilter } from '../src/rag/citations.ts';

describe('citations', () => {
  it('keeps markers that name a given source and removes out-of-range ones', () => {
    expect(cleanCitations('Yes [1], also [2]. Not [3] nor [0].', 2)).toBe('Yes [1], also [2]. Not nor.');
  });

  it('drops invalid numbers from a list marker and the whole marker when none is left', () => {
    expect(cleanCitations('See [1, 7, 2] and [8, 9].', 2)).toBe('See [1, 2] and.');
  });

  it('leaves Markdown links and other brackets alone', () => {
    const text = 'Read [the guide](https://x.example/a) and [note] [1].';
    expect(cleanCitations(text, 1)).toBe(text);
  });

  it('a marker split across streamed pieces is judged whole and never shown half', () => {
    const filter = createCitationFilter(3);
    const pieces = ['Use --rebuild [', '1', '] then check [', '1', '2] done', ' [2'];
    const shown = pieces.map((p) => filter.push(p));
    const out = shown.join('') + filter.flush();
    expect(out).toBe('Use --rebuild [1] then check done [2');
    // Nothing shown before its marker was complete contains a stray '['.
    expect(shown[0]).toBe('Use --rebuild');
    expect(shown[3]).not.toContain('[');
  });

  it('a streamed answer equals the cleaned whole answer, whatever the piece boundaries', () => {
    const answer = '知识库支持混合检索[1]。重建请用 --rebuild [2][9]，详见 [3, 4]。';
    for (let size = 1; size <= 6; size++) {
      const filter = createCitationFilter(3);
      let out = '';
      for (let i = 0; i < answer.length; i += size) out += filter.push(answer.slice(i, i + size));
      out += filter.flush();
      expect(out).toBe(cleanCitations(answer, 3));
    }
  });
});
