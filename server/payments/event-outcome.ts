/** What every Stripe event handler shares: the actor it acts as, the outcome it records, the user it finds. */
import { eq } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Actor } from '../auth/audit';
import type { DbOrTx } from '../db/client';
import { users } from '../ledger/tables';

/** Who the audit log and the ledger name for what Stripe's events change. */
export const stripeActor: Actor = { adminId: null, label: 'stripe' };

/** What a verified event did, as recorded on its stripe_events row. */
export type EventOutcome = {
  outcome: 'processed' | 'ignored';
  reason: string;
  userId?: string | null;
  objectId?: string | null;
  creditsDelta?: number | null;
  creditsLost?: number | null;
};

export const ignored = (reason: string, extra: Omit<EventOutcome, 'outcome' | 'reason'> = {}): EventOutcome => ({ outcome: 'ignored', reason, ...extra });

/**
 * An event Creditdesk must act on but cannot yet: a paid credit pack whose user does not exist yet
 * (ADR 021). Thrown, not returned, so its effects roll back and its row is recorded `failed` with
 * this message: Stripe is answered 500 and sends it again (for up to three days), and an admin may
 * retry it from the Payments page, either way once the user exists.
 */
export class NotYetApplicable extends Error {
  override name = 'NotYetApplicable';
}

export const idOf = (ref: string | { id: string } | null | undefined): string | null => (typeof ref === 'string' ? ref : (ref?.id ?? null));

export type FoundUser = { userId: string } | { userId: null; reason: string };

/**
 * The user an event is about: the one linked to its customer (users.upsert's stripeCustomerId), else
 * the one its object's (or its expanded customer's) `metadata.creditdesk_user_id` names.
 */
export async function findUser(tx: DbOrTx, customer: string | Stripe.Customer | Stripe.DeletedCustomer | null, metadata: Stripe.Metadata | null | undefined): Promise<FoundUser> {
  const customerId = idOf(customer);
  if (customerId) {
    const [linked] = await tx.select({ userId: users.userId }).from(users).where(eq(users.stripeCustomerId, customerId));
    if (linked) return linked;
  }
  const customerMetadata = customer && typeof customer === 'object' && !customer.deleted ? customer.metadata : undefined;
  const named = metadata?.creditdesk_user_id ?? customerMetadata?.creditdesk_user_id;
  if (named) {
    const [user] = await tx.select({ userId: users.userId }).from(users).where(eq(users.userId, named));
    if (user) return user;
    return { userId: null, reason: `unknown user: metadata.creditdesk_user_id names ${named}, which does not exist` };
  }
  return {
    userId: null,
    reason: customerId
      ? `unknown customer: no user is linked to ${customerId} (users.upsert stripeCustomerId) and the event carries no metadata.creditdesk_user_id`
      : 'unknown customer: the event names no customer and carries no metadata.creditdesk_user_id',
  };
}
