// NO_PROXY as curl reads it: hosts and the domains under them, IP addresses, ranges, ports, `*`.
import { describe, expect, it } from 'vitest';
import { formatNoProxyRule, noProxyMatch, parseNoProxyEntry, parseNoProxyList } from '../../../src/config/no-proxy.ts';

const matches = (list: string, url: string) => noProxyMatch(parseNoProxyList(list).rules, url) !== undefined;

describe('NO_PROXY rules', () => {
  it.each([
    // a domain matches itself and what is under it, at a label boundary; a leading . or *. means the same
    ['tis.nhs.uk', 'https://tis.nhs.uk/x', true],
    ['tis.nhs.uk', 'https://apps.tis.nhs.uk/x', true],
    ['tis.nhs.uk', 'https://nottis.nhs.uk/x', false],
    ['.tis.nhs.uk', 'https://tis.nhs.uk', true],
    ['.tis.nhs.uk', 'https://a.b.tis.nhs.uk', true],
    ['*.tis.nhs.uk', 'https://apps.tis.nhs.uk', true],
    ['TIS.NHS.UK.', 'https://apps.tis.nhs.uk.', true],
    // IP addresses match IP addresses only (no DNS): localhost is not 127.0.0.1
    ['127.0.0.1', 'http://127.0.0.1:18080', true],
    ['127.0.0.1', 'http://localhost:18080', false],
    ['localhost', 'http://127.0.0.1:18080', false],
    ['localhost', 'http://localhost:18080', true],
    ['10.0.0.0/8', 'http://10.20.30.40', true],
    ['10.0.0.0/8', 'http://11.0.0.1', false],
    ['::1', 'http://[::1]:8080', true],
    ['[::1]', 'http://[::1]:8080', true],
    ['fd00::/8', 'http://[fd12::1]', true],
    ['fd00::/8', 'http://10.1.1.1', false],
    // a port narrows the rule
    ['127.0.0.1:18080', 'http://127.0.0.1:18080', true],
    ['127.0.0.1:18080', 'http://127.0.0.1:18081', false],
    ['tis.nhs.uk:443', 'https://apps.tis.nhs.uk/', true],
    ['tis.nhs.uk:443', 'http://apps.tis.nhs.uk/', false],
    ['[::1]:80', 'http://[::1]/', true],
    // everything, a list, spaces
    ['*', 'https://anything.example', true],
    ['example.org, 127.0.0.1 ,.tis.nhs.uk', 'https://apps.tis.nhs.uk', true],
    ['', 'https://apps.tis.nhs.uk', false],
  ])('%s against %s: %s', (list, url, expected) => {
    expect(matches(list, url)).toBe(expected);
  });

  it('keeps entries that are no rule apart, and says why', () => {
    expect(parseNoProxyList('good.example, bad/entry, 10.0.0.0/99, ,host:99999').ignored).toEqual([
      'bad/entry',
      '10.0.0.0/99',
      'host:99999',
    ]);
    expect(parseNoProxyEntry('http://x.example')).toEqual({ error: expect.stringMatching(/not a host name/) });
    expect(parseNoProxyEntry('[nope]')).toEqual({ error: expect.stringMatching(/IPv6/) });
  });

  it('writes rules back as NO_PROXY entries', () => {
    expect(parseNoProxyList('.Tis.nhs.uk, 10.0.0.0/8, [::1]:80, 127.0.0.1:18080, *').rules.map(formatNoProxyRule)).toEqual([
      'tis.nhs.uk',
      '10.0.0.0/8',
      '[::1]:80',
      '127.0.0.1:18080',
      '*',
    ]);
  });
});
