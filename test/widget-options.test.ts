import { describe, expect, it } from 'vitest';
import { format, pickLanguage, stringsFor } from '../src/widget/i18n.ts';
import { readOptions } from '../src/widget/options.ts';

/** The widget's settings from its script tag, and its languages. */

const SCRIPT = 'https://kb.intra.example/widget.js';
const read = (attributes: Record<string, string>, language = 'en-US', script = SCRIPT) =>
  readOptions(
    (name) => attributes[name] ?? null,
    script,
    language,
    (c) => /^#[0-9a-f]{3,6}$|^rebeccapurple$/i.test(c),
  );

describe('readOptions', () => {
  it('defaults to the default knowledge base, closed, bottom-right, asking the server the script came from', () => {
    expect(read({})).toEqual({
      kb: 'default',
      key: undefined,
      title: undefined,
      placeholder: undefined,
      language: 'en',
      position: 'bottom-right',
      primaryColor: undefined,
      open: false,
      api: 'https://kb.intra.example/',
    });
  });

  it('keeps a path prefix of the script URL, so a service mounted under /kb/ works', () => {
    expect(read({}, 'en', 'https://intra.example/kb/widget.js?v=2').api).toBe('https://intra.example/kb/');
  });

  it('reads every attribute', () => {
    expect(
      read({
        'data-kb': 'hr',
        'data-key': ' k-1 ',
        'data-title': 'HR help',
        'data-placeholder': 'Ask HR…',
        'data-lang': 'zh-CN',
        'data-position': 'bottom-left',
        'data-primary-color': 'rebeccapurple',
        'data-open': '',
        'data-api': 'https://api.example/kb',
      }),
    ).toEqual({
      kb: 'hr',
      key: 'k-1',
      title: 'HR help',
      placeholder: 'Ask HR…',
      language: 'zh-CN',
      position: 'bottom-left',
      primaryColor: 'rebeccapurple',
      open: true,
      api: 'https://api.example/kb/',
    });
  });

  it('falls back on invalid values, treats empty as absent and data-open="false" as closed', () => {
    const options = read({
      'data-kb': ' ',
      'data-position': 'top',
      'data-primary-color': 'red; x: y',
      'data-open': 'false',
    });
    expect(options).toMatchObject({
      kb: 'default',
      position: 'bottom-right',
      primaryColor: undefined,
      open: false,
    });
  });

  it('resolves a relative data-api against the script URL', () => {
    expect(read({ 'data-api': '/api' }).api).toBe('https://kb.intra.example/api/');
  });

  it('takes the language from the browser when data-lang is absent', () => {
    expect(read({}, 'zh-CN').language).toBe('zh-CN');
    expect(read({ 'data-lang': 'en' }, 'zh-CN').language).toBe('en');
  });
});

describe('languages', () => {
  it('maps every Chinese tag to Simplified Chinese and everything else to English', () => {
    for (const tag of ['zh', 'zh-CN', 'zh-Hans', 'zh_SG', 'zh-TW', 'ZH-hk'])
      expect(pickLanguage(tag), tag).toBe('zh-CN');
    for (const tag of ['en', 'en-GB', 'fr', 'zhx', '', undefined, null])
      expect(pickLanguage(tag), String(tag)).toBe('en');
  });

  it('translates every string, and fills placeholders', () => {
    const en = stringsFor('en');
    const zh = stringsFor('zh-CN');
    expect(Object.keys(zh).sort()).toEqual(Object.keys(en).sort());
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(zh[key], key).not.toBe(en[key]);
      expect(zh[key].length, key).toBeGreaterThan(0);
    }
    expect(format(zh.source, { n: 3 })).toBe('来源 3');
  });
});
