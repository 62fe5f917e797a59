import { randomBytes } from 'node:crypto';

const runPrefix = `bench-${randomBytes(4).toString('hex')}`;
let seq = 0;

/** A fresh idempotency key per operation, unique across cases, rounds and runs. */
export const nextKey = (kind = 'op') => `${runPrefix}-${kind}-${seq++}`;
