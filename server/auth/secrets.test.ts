import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox } from './secrets';

describe('[SECRETS] AES-256-GCM', () => {
  const box = new SecretBox(randomBytes(32));

  it('round-trips and never repeats a ciphertext', () => {
    const a = box.encrypt('sk-provider-key');
    expect(box.decrypt(a)).toBe('sk-provider-key');
    expect(box.encrypt('sk-provider-key')).not.toBe(a);
    expect(a).not.toContain('sk-provider-key');
  });

  it('refuses a tampered ciphertext', () => {
    const sealed = box.encrypt('sk-provider-key');
    const parts = sealed.split(':');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => box.decrypt(parts.join(':'))).toThrow(/tampered/);
  });

  it('refuses a ciphertext sealed with another key', () => {
    expect(() => new SecretBox(randomBytes(32)).decrypt(box.encrypt('x'))).toThrow(/another master key/);
  });
});
