// The selector syntax of the configuration: what each form means, the placeholders, and that a
// bad selector is a configuration error naming its field (and its place in a list).
import { describe, expect, it } from 'vitest';
import { formatIssues } from '../../../src/config/load.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { fillPart, parseSelectorPart } from '../../../src/config/selector.ts';

const target = { appUrl: 'http://127.0.0.1:9', keycloak: { url: 'http://127.0.0.1:9' }, credentials: { username: 'u', password: 'p' } };

function problems(selectors: Record<string, unknown>): string[] {
  const r = configSchema.safeParse({ targets: { prod: { ...target, selectors } } });
  return r.success ? [] : formatIssues(r.error.issues);
}

describe('parseSelectorPart', () => {
  it('reads roles with and without a name, labels, texts and CSS', () => {
    expect(parseSelectorPart('role=table')).toEqual({ by: 'role', role: 'table' });
    expect(parseSelectorPart('role=button[name=/^upload\\b/i]')).toEqual({
      by: 'role',
      role: 'button',
      name: { kind: 'regex', source: '^upload\\b', flags: 'i' },
    });
    expect(parseSelectorPart('role=button[name="Sign In"]')).toEqual({
      by: 'role',
      role: 'button',
      name: { kind: 'exact', text: 'Sign In' },
    });
    expect(parseSelectorPart('role=row[name={fileName}]')).toEqual({
      by: 'role',
      role: 'row',
      name: { kind: 'contains', text: '{fileName}' },
    });
    expect(parseSelectorPart('label=File')).toEqual({ by: 'label', text: { kind: 'contains', text: 'File' } });
    expect(parseSelectorPart('text="Upload"')).toEqual({ by: 'text', text: { kind: 'exact', text: 'Upload' } });
    expect(parseSelectorPart('css=#upload-button')).toEqual({ by: 'css', css: '#upload-button' });
    expect(parseSelectorPart('input[type=file]')).toEqual({ by: 'css', css: 'input[type=file]' });
    expect(parseSelectorPart('#t tbody tr:has(td:text-is("{fileName}"))')).toEqual({
      by: 'css',
      css: '#t tbody tr:has(td:text-is("{fileName}"))',
    });
  });

  it('refuses what would only fail on the page', () => {
    expect(() => parseSelectorPart('role=buton')).toThrow(/unknown ARIA role "buton"/);
    expect(() => parseSelectorPart('role=button[label=x]')).toThrow(/expected role=ROLE or role=ROLE\[name=TEXT\]/);
    expect(() => parseSelectorPart('role=button[name=/up(/i]')).toThrow(/not a regular expression/);
    expect(() => parseSelectorPart('role=button[name=/up/g]')).toThrow(/flags may be i, m, s and u/);
    expect(() => parseSelectorPart('label="File')).toThrow(/one double-quoted string/);
    expect(() => parseSelectorPart('text=')).toThrow(/without a text/);
    expect(() => parseSelectorPart('xpath=//button')).toThrow(/unknown selector kind "xpath="/);
    expect(() => parseSelectorPart('   ')).toThrow(/empty selector/);
  });

  it('fills placeholders, escaped inside a regular expression', () => {
    const vars = { fileName: 'synthetic-probe-box.xlsx' };
    expect(fillPart(parseSelectorPart('role=row[name={fileName}]'), vars)).toEqual({
      by: 'role',
      role: 'row',
      name: { kind: 'contains', text: 'synthetic-probe-box.xlsx' },
    });
    expect(fillPart(parseSelectorPart('role=row[name=/^{fileName}/]'), vars)).toMatchObject({
      name: { kind: 'regex', source: '^synthetic-probe-box\\.xlsx' },
    });
    expect(fillPart(parseSelectorPart('tr:has(td:text-is("{fileName}"))'), vars)).toEqual({
      by: 'css',
      css: 'tr:has(td:text-is("synthetic-probe-box.xlsx"))',
    });
  });
});

describe('selectors in the configuration', () => {
  it('defaults to role-based selectors with the stand-in ids as fallbacks, and takes one string as a list of one', () => {
    const c = configSchema.parse({ targets: { t: { ...target, selectors: { uploadButton: '#go' } } } });
    const s = c.targets.t!.selectors;
    expect(s.uploadButton).toEqual(['#go']);
    expect(s.loginSubmit).toEqual(['role=button[name=/^(sign|log) ?in$/i]', '#kc-login']);
    expect(s.uploadRow[0]).toBe('role=row[name={fileName}]');
    for (const list of Object.values(s)) for (const one of list) expect(() => parseSelectorPart(one)).not.toThrow();
  });

  it('names the field, and the alternative, of a bad selector', () => {
    expect(problems({ uploadButton: 'role=buton' })).toEqual([
      'targets.prod.selectors.uploadButton: unknown ARIA role "buton" (e.g. button, link, textbox, table, row)',
    ]);
    expect(problems({ loginSubmit: ['#kc-login', 'text=/Sign in(/'] })).toEqual([
      expect.stringMatching(/^targets\.prod\.selectors\.loginSubmit\.1: text=\/Sign in\(\/: not a regular expression/),
    ]);
    expect(problems({ appReady: [] })).toEqual(['targets.prod.selectors.appReady: between 1 and 10 alternatives']);
    expect(problems({ fileInput: 3 })).toEqual([expect.stringMatching(/^targets\.prod\.selectors\.fileInput: a selector \(role=ROLE/)]);
  });
});
