import { createHash, randomBytes } from 'node:crypto';

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** An opaque random secret with a readable prefix, e.g. `cd_live_…`. */
export const newSecret = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;
