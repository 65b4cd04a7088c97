// The selector syntax of the configuration file: how a YAML value names an element of the page.
// Parsed here, as data (no browser needed: the configuration is checked at start, naming the bad
// field); turned into a Playwright Locator by probes/locate.ts.
//
//   role=ROLE                 an element with that ARIA role             page.getByRole(ROLE)
//   role=ROLE[name=TEXT]      ... and that accessible name               page.getByRole(ROLE, { name })
//   label=TEXT                a form control by its label (or aria-label) page.getByLabel(TEXT)
//   text=TEXT                 an element by its text                      page.getByText(TEXT)
//   css=CSS, or plain CSS     Playwright's CSS (:has(), :text-is() ...)  page.locator(CSS)
//
// TEXT is `Upload` (contains it, any case), `"Upload"` (exactly, a JSON string) or `/^upload\b/i`
// (a regular expression, flags i m s u). A selector may be a list: the first alternative that
// matches on the page is used. `{fileName}` (uploadRow) is replaced by the canary's file name.
import { z } from 'zod';

/** The roles Playwright's getByRole accepts (probes/locate.ts checks the list against its types). */
export const ARIA_ROLES = [
  'alert',
  'alertdialog',
  'application',
  'article',
  'banner',
  'blockquote',
  'button',
  'caption',
  'cell',
  'checkbox',
  'code',
  'columnheader',
  'combobox',
  'complementary',
  'contentinfo',
  'definition',
  'deletion',
  'dialog',
  'directory',
  'document',
  'emphasis',
  'feed',
  'figure',
  'form',
  'generic',
  'grid',
  'gridcell',
  'group',
  'heading',
  'img',
  'insertion',
  'link',
  'list',
  'listbox',
  'listitem',
  'log',
  'main',
  'marquee',
  'math',
  'meter',
  'menu',
  'menubar',
  'menuitem',
  'menuitemcheckbox',
  'menuitemradio',
  'navigation',
  'none',
  'note',
  'option',
  'paragraph',
  'presentation',
  'progressbar',
  'radio',
  'radiogroup',
  'region',
  'row',
  'rowgroup',
  'rowheader',
  'scrollbar',
  'search',
  'searchbox',
  'separator',
  'slider',
  'spinbutton',
  'status',
  'strong',
  'subscript',
  'superscript',
  'switch',
  'tab',
  'table',
  'tablist',
  'tabpanel',
  'term',
  'textbox',
  'time',
  'timer',
  'toolbar',
  'tooltip',
  'tree',
  'treegrid',
  'treeitem',
] as const;
export type AriaRole = (typeof ARIA_ROLES)[number];

/** How a text is matched: contained (any case, whitespace normalised), exactly, or by a regular expression. */
export type TextMatch =
  { kind: 'contains'; text: string } | { kind: 'exact'; text: string } | { kind: 'regex'; source: string; flags: string };

/** One alternative of a configured selector, parsed. */
export type SelectorPart =
  | { by: 'role'; role: AriaRole; name?: TextMatch }
  | { by: 'label'; text: TextMatch }
  | { by: 'text'; text: TextMatch }
  | { by: 'css'; css: string };

/** A configured selector as validated: its alternatives, in order of preference. */
export type Selector = string[];

/** Values for placeholders such as `{fileName}`. */
export type SelectorVars = Readonly<Record<string, string>>;

export class SelectorSyntaxError extends Error {
  override name = 'SelectorSyntaxError';
}

const KINDS = 'role=ROLE[name=TEXT], label=TEXT, text=TEXT, css=CSS or a CSS selector';
const REGEX_FLAGS = /^[imsu]*$/;
/** Longest alternative, and most alternatives, a selector may have. */
const MAX_LENGTH = 1_000;
const MAX_ALTERNATIVES = 10;

/** Parses one alternative; throws SelectorSyntaxError saying what is wrong. */
export function parseSelectorPart(text: string): SelectorPart {
  if (text.trim() === '') throw new SelectorSyntaxError('an empty selector');
  if (text.length > MAX_LENGTH) throw new SelectorSyntaxError(`a selector longer than ${MAX_LENGTH} characters`);
  const kind = /^([a-z][a-z0-9_-]*)=/i.exec(text)?.[1];
  if (kind === undefined) return { by: 'css', css: text };
  const rest = text.slice(kind.length + 1);
  switch (kind) {
    case 'role':
      return parseRole(rest);
    case 'label':
      return { by: 'label', text: parseText(rest, 'label=') };
    case 'text':
      return { by: 'text', text: parseText(rest, 'text=') };
    case 'css':
      if (rest.trim() === '') throw new SelectorSyntaxError('css= without a CSS selector');
      return { by: 'css', css: rest };
    default:
      // "xpath=", "id=", a typo such as "rol=": not CSS either, so a mistake rather than a page that lacks it.
      throw new SelectorSyntaxError(`unknown selector kind "${kind}=" (use ${KINDS})`);
  }
}

function parseRole(rest: string): SelectorPart {
  const m = /^([a-z]+)(?:\[name=(.*)\])?$/s.exec(rest);
  if (!m) throw new SelectorSyntaxError(`"role=${rest}": expected role=ROLE or role=ROLE[name=TEXT], e.g. role=button[name=/upload/i]`);
  const role = m[1]!;
  if (!(ARIA_ROLES as readonly string[]).includes(role))
    throw new SelectorSyntaxError(`unknown ARIA role "${role}" (e.g. button, link, textbox, table, row)`);
  if (m[2] === undefined) return { by: 'role', role: role as AriaRole };
  return { by: 'role', role: role as AriaRole, name: parseText(m[2], `role=${role}[name=`) };
}

/** `Upload` (contains, any case), `"Upload"` (exactly) or `/upload/i` (a regular expression). */
function parseText(value: string, where: string): TextMatch {
  if (value.trim() === '') throw new SelectorSyntaxError(`${where} without a text`);
  if (value.startsWith('"')) {
    let text: unknown;
    try {
      text = JSON.parse(value);
    } catch {
      throw new SelectorSyntaxError(`${where}${value}: a quoted text is one double-quoted string ("Sign In", with \\" inside)`);
    }
    if (typeof text !== 'string' || text === '') throw new SelectorSyntaxError(`${where}${value}: an empty text`);
    return { kind: 'exact', text };
  }
  const re = /^\/(.+)\/([a-z]*)$/s.exec(value);
  if (re) {
    const [, source, flags] = re as unknown as [string, string, string];
    if (!REGEX_FLAGS.test(flags)) throw new SelectorSyntaxError(`${where}${value}: regular expression flags may be i, m, s and u`);
    try {
      new RegExp(source, flags);
    } catch (e) {
      throw new SelectorSyntaxError(`${where}${value}: not a regular expression (${(e as Error).message})`);
    }
    return { kind: 'regex', source, flags };
  }
  return { kind: 'contains', text: value };
}

/** A parsed alternative with its placeholders filled; inside a regular expression the value is escaped. */
export function fillPart(part: SelectorPart, vars: SelectorVars): SelectorPart {
  const fill = (s: string, escape: (v: string) => string = (v) => v) =>
    s.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => (vars[name] === undefined ? whole : escape(vars[name])));
  const text = (t: TextMatch): TextMatch =>
    t.kind === 'regex' ? { ...t, source: fill(t.source, escapeRegExp) } : { ...t, text: fill(t.text) };
  switch (part.by) {
    case 'role':
      return part.name ? { ...part, name: text(part.name) } : part;
    case 'label':
    case 'text':
      return { ...part, text: text(part.text) };
    case 'css':
      return { by: 'css', css: fill(part.css) };
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** How a selector reads in a message: its alternatives, joined with "or". */
export function describeSelector(selector: readonly string[]): string {
  return selector.join(' or ');
}

const EXPECTED = `a selector (${KINDS}) or a list of them`;

/**
 * A selector field of the configuration: one string or a list of alternatives (the first that
 * matches on the page is used), each checked here; a bad one names its field and position.
 */
export function selectorField(defaults: Selector) {
  return z
    .custom<string | string[]>((v) => typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string')), EXPECTED)
    .transform((v, ctx): Selector => {
      const list = typeof v === 'string' ? [v] : v;
      if (list.length === 0 || list.length > MAX_ALTERNATIVES) {
        ctx.addIssue({ code: 'custom', message: `between 1 and ${MAX_ALTERNATIVES} alternatives` });
        return z.NEVER;
      }
      list.forEach((s, i) => {
        try {
          parseSelectorPart(s);
        } catch (e) {
          if (!(e instanceof SelectorSyntaxError)) throw e;
          ctx.addIssue({ code: 'custom', message: e.message, path: typeof v === 'string' ? [] : [i] });
        }
      });
      return list;
    })
    .default(defaults);
}
