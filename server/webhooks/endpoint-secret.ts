import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../auth/secrets';

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64 (the spec asks for 24 to 64). */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * Seals the secret together with the URL it signs for: a sealed value copied onto another
 * endpoint row, or a URL changed in the database, opens to a mismatch and nothing is sent.
 */
export const sealEndpointSecret = (secrets: SecretBox, url: string, secret: string) => secrets.encrypt(JSON.stringify({ url, secret }));

export function openEndpointSecret(secrets: SecretBox, sealed: string, url: string): string {
  const opened = JSON.parse(secrets.decrypt(sealed)) as { url?: unknown; secret?: unknown };
  if (opened.url !== url || typeof opened.secret !== 'string') throw new Error('the signing secret was sealed for another destination');
  return opened.secret;
}
