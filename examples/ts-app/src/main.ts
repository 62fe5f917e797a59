/**
 * A product app's integration with Creditdesk through @creditdesk/sdk.
 * CREDITDESK_URL and CREDITDESK_API_KEY (scopes users:write, credits:read, credits:write) are required;
 * EXAMPLE_USER_PREFIX names this run's users.
 */
import { createCreditdesk, CreditdeskError } from '@creditdesk/sdk';

const baseUrl = process.env.CREDITDESK_URL ?? 'http://localhost:3000';
const apiKey = process.env.CREDITDESK_API_KEY;
if (!apiKey) throw new Error('Set CREDITDESK_API_KEY to an API key with users:write, credits:read and credits:write.');
const prefix = process.env.EXAMPLE_USER_PREFIX ?? `example-${Date.now()}`;

const creditdesk = createCreditdesk({ baseUrl, token: apiKey });
const say = (what: string, value: unknown) => console.log(`${what}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);

// 1. The product's user, on the Plus tier: it starts with the tier's monthly allowance.
const userId = `${prefix}-plus`;
const created = await creditdesk.mutate('users.upsert', { userId, email: `${userId}@example.com`, tier: 'plus' });
say('created', `${created.userId} on ${created.tier} with ${created.currentBalance} credits`);

// 2. Its balance, read with the API key and with the user's own short-lived token.
const balance = await creditdesk.query('credits.balance', { userId });
say('balance', balance.currentBalance + balance.bonusBalance);
const { token } = await creditdesk.mutate('auth.userToken', { userId });
const own = await creditdesk.query('credits.balance', { userId }, { token });
say('balance with user token', own.currentBalance + own.bonusBalance);

// 3. A charge with an idempotency key, and the same request again (a retry after a timeout, say).
const charge = { userId, credits: 2, enhancementType: 'lighting', idempotencyKey: `${prefix}-order-1` } as const;
const first = await creditdesk.mutate('credits.consume', charge);
say('consumed', `${first.creditsConsumed} credits in transaction ${first.transactionId}, ${first.remainingBalance} left`);
const replay = await creditdesk.mutate('credits.consume', charge);
say('replayed', replay.transactionId === first.transactionId ? `same transaction ${replay.transactionId}, nothing charged twice` : 'A NEW CHARGE');
const after = await creditdesk.query('credits.balance', { userId });
say('balance after replay', after.currentBalance + after.bonusBalance);

// 4. A free user has no credits for AI work: the refusal's reason is what the app branches on.
const freeUser = `${prefix}-free`;
await creditdesk.mutate('users.upsert', { userId: freeUser, tier: 'free' });
try {
  await creditdesk.mutate('credits.consume', { userId: freeUser, credits: 1, enhancementType: 'upscale', idempotencyKey: `${prefix}-order-2` });
  say('free user', 'CHARGED');
} catch (err) {
  if (!(err instanceof CreditdeskError)) throw err;
  say('free user refused', `${err.reason} (HTTP ${err.status}): ${err.message}`);
}
