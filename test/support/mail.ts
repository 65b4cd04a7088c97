// Reads a message as an SMTP server receives it (test/support/smtp-sink.ts): headers (RFC 2047
// encoded words decoded), and the text of each part of a multipart message (quoted-printable
// and base64 decoded). Enough MIME for what Alertmanager sends, not a general mail parser.

export interface MailPart {
  headers: Record<string, string>;
  contentType: string;
  text: string;
}

export interface Mail {
  headers: Record<string, string>;
  subject: string;
  parts: MailPart[];
  /** The first part of this content type (e.g. `text/plain`), decoded. */
  part(contentType: string): MailPart | undefined;
}

function splitHead(raw: string): { headers: Record<string, string>; body: string } {
  const lines = raw.replace(/\r\n/g, '\n').split('\n');
  const end = lines.indexOf('');
  const head = (end < 0 ? lines : lines.slice(0, end)).join('\n').replace(/\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: end < 0 ? '' : lines.slice(end + 1).join('\n') };
}

function quotedPrintable(text: string): string {
  const soft = text.replace(/=\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(soft[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047: =?charset?Q?...?= and =?charset?B?...?= words, as Go's mime package writes them. */
export function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?[^?]+\?([QqBb])\?([^?]*)\?=/g, (_m, enc: string, data: string) =>
      enc.toUpperCase() === 'B' ? Buffer.from(data, 'base64').toString('utf8') : quotedPrintable(data.replace(/_/g, ' ')),
    );
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const encoding = (headers['content-transfer-encoding'] ?? '').toLowerCase();
  if (encoding === 'quoted-printable') return quotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

export function parseMail(raw: string): Mail {
  const { headers, body } = splitHead(raw);
  const type = headers['content-type'] ?? 'text/plain';
  const parts: MailPart[] = [];
  const boundary = /boundary="?([^";\s]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith('multipart/') && boundary) {
    const chunks = body.split(`--${boundary}`).slice(1);
    for (const chunk of chunks) {
      if (chunk.startsWith('--')) break;
      const part = splitHead(chunk.replace(/^\n/, ''));
      parts.push({
        headers: part.headers,
        contentType: (part.headers['content-type'] ?? 'text/plain').split(';')[0]!.trim().toLowerCase(),
        text: decodeBody(part.headers, part.body.replace(/\n$/, '')),
      });
    }
  } else {
    parts.push({ headers, contentType: type.split(';')[0]!.trim().toLowerCase(), text: decodeBody(headers, body) });
  }
  return {
    headers,
    subject: decodeHeader(headers.subject ?? ''),
    parts,
    part: (contentType) => parts.find((p) => p.contentType === contentType),
  };
}
