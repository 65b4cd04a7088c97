// NO_PROXY rules as curl reads them (the environment's `no_proxy`/`NO_PROXY` and the file's
// `proxy.noProxy`), parsed once and matched against a URL. A rule is:
//   *                     every host: no proxy at all
//   example.nhs.uk        that host and every host under it (a leading `.` or `*.` means the same)
//   10.1.2.3, ::1         that IP address (written in the URL as an IP: no DNS lookup)
//   10.0.0.0/8, fd00::/8  that range (CIDR)
//   host:8443, [::1]:80   any of the above (but a range) on that port only
// Host names match host names only: `localhost` does not match 127.0.0.1, as with curl.
import { BlockList, isIP } from 'node:net';

export type NoProxyRule =
  | { kind: 'all' }
  | { kind: 'host'; host: string; port?: number }
  | { kind: 'ip'; address: string; family: 4 | 6; prefix?: number; port?: number };

const LABEL = '[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?';
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** One entry as a rule, or why it is not one. */
export function parseNoProxyEntry(raw: string): NoProxyRule | { error: string } {
  const s = raw.trim().toLowerCase();
  if (s === '') return { error: 'an empty entry' };
  if (s === '*') return { kind: 'all' };
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (cidr) {
    const family = isIP(cidr[1]!);
    const prefix = Number(cidr[2]);
    if (family === 0 || prefix > (family === 4 ? 32 : 128)) return { error: `"${raw}" is not an IP range such as 10.0.0.0/8` };
    return { kind: 'ip', address: cidr[1]!, family: family as 4 | 6, prefix };
  }
  let host = s;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (isIP(s) === 0) {
    const withPort = /^([^:]+):(\d+)$/.exec(s);
    if (withPort) {
      host = withPort[1]!;
      port = Number(withPort[2]);
    }
  }
  if (port !== undefined && !(port >= 1 && port <= 65535)) return { error: `"${raw}" has a port outside 1-65535` };
  const at = port === undefined ? {} : { port };
  const family = isIP(host);
  if (family !== 0) return { kind: 'ip', address: host, family: family as 4 | 6, ...at };
  if (bracketed) return { error: `"${raw}" is not an IPv6 address in brackets` };
  const name = host.replace(/^\*?\./, '').replace(/\.$/, '');
  if (!HOST_NAME.test(name)) return { error: `"${raw}" is not a host name, domain, IP address or IP range` };
  return { kind: 'host', host: name, ...at };
}

/** A NO_PROXY value (entries separated by commas or spaces): the rules, and the entries that are none. */
export function parseNoProxyList(entries: string | readonly string[]): { rules: NoProxyRule[]; ignored: string[] } {
  const list = typeof entries === 'string' ? entries.split(/[\s,]+/) : entries;
  const rules: NoProxyRule[] = [];
  const ignored: string[] = [];
  for (const entry of list) {
    if (entry.trim() === '') continue;
    const r = parseNoProxyEntry(entry);
    if ('error' in r) ignored.push(entry.trim());
    else rules.push(r);
  }
  return { rules, ignored };
}

/** The first rule that sends this URL direct, if any. */
export function noProxyMatch(rules: readonly NoProxyRule[], url: string | URL): NoProxyRule | undefined {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return undefined;
  }
  const host = u.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : 0));
  const family = isIP(host);
  return rules.find((r) => {
    if (r.kind === 'all') return true;
    if (r.port !== undefined && r.port !== port) return false;
    if (r.kind === 'host') return family === 0 && (host === r.host || host.endsWith(`.${r.host}`));
    if (family !== r.family) return false;
    const list = new BlockList();
    const type = r.family === 4 ? 'ipv4' : 'ipv6';
    if (r.prefix === undefined) list.addAddress(r.address, type);
    else list.addSubnet(r.address, r.prefix, type);
    return list.check(host, type);
  });
}

/** A rule as it would be written in NO_PROXY. */
export function formatNoProxyRule(r: NoProxyRule): string {
  if (r.kind === 'all') return '*';
  if (r.kind === 'host') return r.port === undefined ? r.host : `${r.host}:${r.port}`;
  if (r.prefix !== undefined) return `${r.address}/${r.prefix}`;
  if (r.port === undefined) return r.address;
  return r.family === 6 ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`;
}
