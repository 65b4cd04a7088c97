// Reads the bearer token of a request, or undefined.
import type { IncomingHttpHeaders } from 'node:http';

export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const h = headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h);
  return m?.[1];
}
