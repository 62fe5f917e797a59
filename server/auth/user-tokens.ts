import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

const PREFIX = 'cdu_';

/**
 * Short-lived tokens with which one end user's browser reads that user's own credits. An HMAC over
 * `{ sub, exp }` with a key derived from the master key: nothing stored, nothing to look up.
 */
export class UserTokens {
  private readonly key: Buffer;

  constructor(masterKey: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'creditdesk user tokens', 32));
  }

  mint(userId: string, ttlSeconds: number, now = Date.now()): { token: string; expiresAt: Date } {
    const exp = Math.floor(now / 1000) + ttlSeconds;
    const payload = Buffer.from(JSON.stringify({ sub: userId, exp })).toString('base64url');
    return { token: `${PREFIX}${payload}.${this.sign(payload)}`, expiresAt: new Date(exp * 1000) };
  }

  /** The user id the token speaks for, or null when it is malformed, forged or expired. */
  verify(token: string, now = Date.now()): string | null {
    if (!token.startsWith(PREFIX)) return null;
    const [payload, signature] = token.slice(PREFIX.length).split('.');
    if (!payload || !signature) return null;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const { sub, exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: unknown; exp: unknown };
      if (typeof sub !== 'string' || typeof exp !== 'number' || exp * 1000 <= now) return null;
      return sub;
    } catch {
      return null;
    }
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}
