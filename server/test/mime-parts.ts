/** Just enough MIME for the fake SMTP receiver: headers, transfer decoding and multipart bodies (RFC 2045/2046). */

export type MimePart = { headers: Map<string, string>; contentType: string; contentId: string | null; body: Buffer };

/** A message or part's headers (folded lines joined, names lower-cased) and its raw body. */
export function splitHeaders(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const head = (split < 0 ? raw : raw.slice(0, split)).replace(/\r?\n[ \t]+/g, ' ');
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { headers, body };
}

/** The body's bytes under its Content-Transfer-Encoding (base64, quoted-printable, or as is). */
export function decodeBody(body: string, encoding = '7bit'): Buffer {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable':
      return Buffer.from(
        body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      );
    default:
      return Buffer.from(body, 'utf8');
  }
}

/** The leaf parts of a message, depth first (multipart/related → multipart/alternative → text, html; then the image). */
export function mimeParts(raw: string): MimePart[] {
  const { headers, body } = splitHeaders(raw);
  const contentType = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (/^multipart\//i.test(contentType) && boundary) {
    // Before the first delimiter is the preamble; after the closing `--boundary--`, the epilogue.
    const inner = body.split(`--${boundary}--`)[0]!;
    return inner
      .split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\r?\\n`))
      .slice(1)
      .flatMap(mimeParts);
  }
  const contentId = headers.get('content-id')?.replace(/^<|>$/g, '') ?? null;
  return [{ headers, contentType: contentType.split(';')[0]!.trim().toLowerCase(), contentId, body: decodeBody(body, headers.get('content-transfer-encoding')) }];
}
