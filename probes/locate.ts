// A configured selector (src/config/selector.ts: role=, label=, text=, css= or CSS; one or a
// list of alternatives) turned into Playwright Locators: getByRole, getByLabel, getByText or
// locator(css), within the page or within another element.
import type { Locator, Page } from 'playwright-core';
import {
  fillPart,
  parseSelectorPart,
  type AriaRole,
  type SelectorPart,
  type SelectorVars,
  type TextMatch,
} from '../src/config/selector.ts';

/** Where to look: the whole page, or inside an element (a row). */
export type Scope = Page | Locator;

// The configuration's role list and Playwright's must agree (a compile-time check, both ways).
type PlaywrightRole = Parameters<Page['getByRole']>[0];
const _rolesAgree: [AriaRole extends PlaywrightRole ? true : false, PlaywrightRole extends AriaRole ? true : false] = [true, true];
void _rolesAgree;

function textOf(t: TextMatch): { value: string | RegExp; exact: boolean } {
  if (t.kind === 'regex') return { value: new RegExp(t.source, t.flags), exact: false };
  return { value: t.text, exact: t.kind === 'exact' };
}

/** One parsed alternative as a Locator. */
export function partLocator(scope: Scope, part: SelectorPart): Locator {
  switch (part.by) {
    case 'role': {
      if (!part.name) return scope.getByRole(part.role);
      const { value, exact } = textOf(part.name);
      return scope.getByRole(part.role, { name: value, exact });
    }
    case 'label': {
      const { value, exact } = textOf(part.text);
      return scope.getByLabel(value, { exact });
    }
    case 'text': {
      const { value, exact } = textOf(part.text);
      return scope.getByText(value, { exact });
    }
    case 'css':
      return scope.locator(part.css);
  }
}

/** Each alternative of a configured selector as a Locator, in order of preference. */
export function alternatives(scope: Scope, selector: readonly string[], vars: SelectorVars = {}): Locator[] {
  return selector.map((s) => partLocator(scope, fillPart(parseSelectorPart(s), vars)));
}

/** Every element any alternative matches: for waiting until one of them shows. */
export function anyOf(scope: Scope, selector: readonly string[], vars: SelectorVars = {}): Locator {
  const [first, ...rest] = alternatives(scope, selector, vars);
  return rest.reduce((all, l) => all.or(l), first!);
}

/**
 * The first alternative that matches now; when none does, all of them (so that an action on it
 * waits for whichever shows first). Use `.first()` on it where one element is meant.
 */
export async function locate(scope: Scope, selector: readonly string[], vars: SelectorVars = {}): Promise<Locator> {
  const all = alternatives(scope, selector, vars);
  if (all.length === 1) return all[0]!;
  for (const l of all) if ((await l.count()) > 0) return l;
  return all.reduce((union, l) => union.or(l));
}
