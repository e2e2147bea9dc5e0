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

  it('recognises spaced, full-width, lenticular, ranged and zero-padded markers and normalises the kept ones', () => {
    const reply = 'A [9][1] B [ 9 ] C [10] D ［9］ E 【9】 F [1-9] G [9 ,1] H [09] I [1]';
    expect(cleanCitations(reply, 3)).toBe('A [1] B C D E F [1, 2, 3] G [1] H I [1]');
    expect(cleanCitations('见【2】和［１，３］，另见 [1–2]、[3、1]。', 3)).toBe(
      '见[2]和[1, 3]，另见 [1, 2]、[3, 1]。',
    );
  });

  it('removing a marker never glues words or leaves a space before punctuation', () => {
    const reply = 'word[9]next, **bold [9]** and [9] *em* ok [9] . end [9]\n[9] Line\n  [9] indented';
    expect(cleanCitations(reply, 2)).toBe('word next, **bold** and *em* ok. end\nLine\n  indented');
    expect(cleanCitations('检索 [9] 支持[9]，完成【9】。', 2)).toBe('检索支持，完成。');
  });

  it('adjacent markers are judged as one group and a number cited twice in it is kept once', () => {
    expect(cleanCitations('A [9] [2][2] [1] B', 2)).toBe('A [2] [1] B');
  });

  it('leaves links, checkboxes, inline code and code fences alone', () => {
    const text = [
      '- [ ] todo and [x] done, see [5](https://x.example/5)',
      'Use `arr[0]` or ``a[9]`` here [9].',
      '```js',
      'const first = list[0] + list[9];',
      '```',
      '~~~',
      'grid【9】',
      '~~~',
      'After the fence [9] it is prose again [1].',
    ].join('\n');
    const expected = text.replace('here [9].', 'here.').replace(' [9] it', ' it');
    expect(cleanCitations(text, 1)).toBe(expected);
  });

  it('every new form split anywhere in a stream comes out as the cleaned whole answer', () => {
    const answer =
      'A [9][1] B [ 9 ] C ［9］ D 【9】 E [1-9] F [9 ,1] G `x[9]` H\n```\nb[9]\n```\n【2】检索【9】。';
    const whole = cleanCitations(answer, 3);
    for (let size = 1; size <= 8; size++) {
      const filter = createCitationFilter(3);
      const shown: string[] = [];
      for (let i = 0; i < answer.length; i += size) shown.push(filter.push(answer.slice(i, i + size)));
      shown.push(filter.flush());
      expect(shown.join('')).toBe(whole);
    }
  });

  it('a full-width marker split after its opening bracket is held back, not shown', () => {
    const filter = createCitationFilter(3);
    expect(filter.push('检索【')).toBe('检索');
    expect(filter.push('9】。')).toBe('。');
    expect(filter.push('见【')).toBe('见');
    expect(filter.push('2】')).toBe('');
    expect(filter.flush()).toBe('[2]');
  });
});
