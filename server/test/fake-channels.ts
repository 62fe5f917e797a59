import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { decodeBody, mimeParts, splitHeaders, type MimePart } from './mime-parts';

export type ReceivedWebhook = { path: string; authorization: string | undefined; body: Record<string, unknown> };
export type ReceivedMail = { from: string; to: string[]; subject: string; text: string; parts: MimePart[]; authUser: string | null; authPassword: string | null };

/** RFC 2047 encoded words (=?UTF-8?Q?…?= / =?UTF-8?B?…?=), as nodemailer writes non-ASCII or long subjects. */
function decodeWords(value: string): string {
  return value.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
    enc.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8'),
  );
}

/** A single-part text message: headers, subject and the decoded body (a multipart one keeps its raw body; see `parts`). */
export function parseMail(raw: string): { headers: Map<string, string>; subject: string; text: string } {
  const { headers, body } = splitHeaders(raw);
  const text = decodeBody(body, headers.get('content-transfer-encoding')).toString('utf8');
  return { headers, subject: decodeWords(headers.get('subject') ?? ''), text: text.replace(/\r\n/g, '\n').trimEnd() };
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });

/**
 * Real local servers for the alert channels, on 127.0.0.1: an HTTP server taking Slack webhooks
 * (POST /slack/<token>) and SMS gateway calls (POST /sms), and an SMTP server (smtp-server, auth
 * optional, no STARTTLS). Each records what it received and can be switched to fail (or, for HTTP, to hang).
 */
export async function startFakeChannels() {
  const state = {
    fail: { slack: false, sms: false, email: false },
    /** Accept the request and never answer: the sender's timeout must end it. */
    hang: { slack: false, sms: false },
    /** Answer 429 Too Many Requests with this Retry-After value, as Slack does past its rate limit. */
    rateLimit: { slack: null as string | null, sms: null as string | null },
    slack: [] as ReceivedWebhook[],
    sms: [] as ReceivedWebhook[],
    mail: [] as ReceivedMail[],
  };
  // A handler's error still surfaces as an unhandled rejection (it fails the test run), as before.
  const http: Server = createServer((req, res) => void answer(req, res));
  async function answer(req: IncomingMessage, res: ServerResponse) {
    const kind = req.url?.startsWith('/slack/') ? 'slack' : req.url === '/sms' ? 'sms' : null;
    const raw = await readBody(req);
    if (!kind || req.method !== 'POST') return void res.writeHead(404).end('not found');
    if (state.hang[kind]) return;
    const retryAfter = state.rateLimit[kind];
    if (retryAfter !== null) return void res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': retryAfter }).end('rate_limited');
    if (state.fail[kind]) return void res.writeHead(500, { 'content-type': 'text/plain' }).end('fake outage');
    state[kind].push({ path: req.url!, authorization: req.headers.authorization, body: JSON.parse(raw) as Record<string, unknown> });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  }
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const httpPort = (http.address() as { port: number }).port;

  const auths = new Map<string, { user: string; password: string }>();
  const smtp = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, session, callback) {
      auths.set(session.id, { user: auth.username ?? '', password: auth.password ?? '' });
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (state.fail.email) return callback(Object.assign(new Error('fake mailbox unavailable'), { responseCode: 451 }));
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsed = parseMail(raw);
        const auth = auths.get(session.id);
        state.mail.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: parsed.subject,
          text: parsed.text,
          parts: mimeParts(raw),
          authUser: auth?.user ?? null,
          authPassword: auth?.password ?? null,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const smtpPort = (smtp.server.address() as { port: number }).port;

  return {
    state,
    slackUrl: (token = 'T000/B000/secret') => `http://127.0.0.1:${httpPort}/slack/${token}`,
    smsUrl: `http://127.0.0.1:${httpPort}/sms`,
    // This server offers no STARTTLS, so a channel that signs in to it must allow auth without TLS.
    smtp: { host: '127.0.0.1', port: smtpPort, allowInsecureAuth: true, caPem: null },
    reset() {
      state.fail = { slack: false, sms: false, email: false };
      state.hang = { slack: false, sms: false };
      state.rateLimit = { slack: null, sms: null };
      state.slack.length = 0;
      state.sms.length = 0;
      state.mail.length = 0;
    },
    // An arrow, not a method: tests pass `channels.close` around unbound (closers.push(channels.close)).
    close: async () => {
      http.closeAllConnections();
      await Promise.all([new Promise<void>((resolve) => http.close(() => resolve())), new Promise<void>((resolve) => smtp.close(() => resolve()))]);
    },
  };
}

export type FakeChannels = Awaited<ReturnType<typeof startFakeChannels>>;
