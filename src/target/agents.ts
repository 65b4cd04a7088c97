// axios's agents for one URL, from the resolved network settings (src/config/network.ts):
// through the proxy (absolute-URI requests for http://, a CONNECT tunnel for https://) unless
// NO_PROXY sends the URL direct, trusting `tls.caFile`'s authorities besides the usual ones.
// Agents are made once per proxy and set of authorities and kept (keep-alive, as Node's own).
import type { Agent as HttpAgent, ClientRequest } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { proxyFor, proxyUrl, type Network, type ProxyServer } from '../config/network.ts';

export interface Route {
  /** For axios's `httpAgent` / `httpsAgent`; absent: Node's global agents (direct). */
  httpAgent?: HttpAgent;
  httpsAgent?: HttpAgent;
  /** The proxy the request goes through; absent: direct. */
  proxy?: ProxyServer;
}

/** As Node's global agents (Node 20): sockets kept alive, closed after 5 s idle. */
const KEEP_ALIVE = { keepAlive: true, timeout: 5_000 } as const;
/** Agents kept at most (a configuration changes rarely; dropped agents close their idle sockets by themselves). */
const MAX_KEPT = 16;
const kept = new Map<string, HttpAgent>();

/** The agents for a request to `url`: its proxy (or none) and the trusted authorities. */
export function routeFor(network: Network | undefined, url: string): Route {
  if (!network) return {};
  const proxy = proxyFor(network.proxy, url);
  const secure = url.startsWith('https:');
  if (!proxy && !(secure && network.ca)) return {};
  const ca = secure ? network.ca : undefined;
  const key = JSON.stringify([secure, proxy ? proxyUrl(proxy) : '', ca ? network.caId : '']);
  let agent = kept.get(key);
  if (!agent) {
    agent = makeAgent(proxy, secure, network.ca);
    if (kept.size >= MAX_KEPT) kept.delete(kept.keys().next().value!);
    kept.set(key, agent);
  }
  const route: Route = secure ? { httpsAgent: agent } : { httpAgent: agent };
  if (proxy) route.proxy = proxy;
  return route;
}

function makeAgent(proxy: ProxyServer | undefined, secure: boolean, ca: string[] | undefined): HttpAgent {
  // `ca` also verifies an https:// proxy itself (a TLS-inspecting proxy's own certificate).
  const tls = ca ? { ca } : {};
  if (!proxy) return new HttpsAgent({ ...KEEP_ALIVE, ...tls });
  if (!secure) return new HttpProxyAgent(proxyUrl(proxy), { ...KEEP_ALIVE, ...tls });
  return new TunnelAgent(proxyUrl(proxy), tls, { ...KEEP_ALIVE, ...tls });
}

type ConnectOpts = Parameters<HttpsProxyAgent<string>['connect']>[1];

/**
 * A CONNECT tunnel whose TLS towards the target trusts `targetTls.ca` too: HttpsProxyAgent uses
 * its constructor's options for the proxy connection only, and the request's for the target.
 */
class TunnelAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly targetTls: ConnectionOptions,
    opts: ConstructorParameters<typeof HttpsProxyAgent<string>>[1],
  ) {
    super(proxy, opts);
  }

  override connect(req: ClientRequest, opts: ConnectOpts) {
    return super.connect(req, { ...opts, ...this.targetTls } as ConnectOpts);
  }
}
