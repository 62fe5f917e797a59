import { and, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../auth/tables';
import { creditGrants } from '../ledger/tables';
import { signedInCaller, uniqueId } from '../test/harness';
import { balanceRow, expectLedgerClean, reasonOf } from '../test/ledger-helpers';
import { checkoutEvent, newCustomerId, postStripe } from '../test/stripe-events';
import { startStripeServer, type StripeServer } from '../test/stripe-server';
import { stripeEvents, stripePackGrants } from './tables';

let server: StripeServer;
let base: string;
let admin: StripeServer['admin'];
let analyst: Awaited<ReturnType<typeof signedInCaller>>['caller'];
let users: StripeServer['users'];
const db = () => server.env.deps.dbHandle.db;

beforeAll(async () => {
  server = await startStripeServer();
  ({ base, admin, users } = server);
  analyst = (await signedInCaller(server.env.deps, 'analyst')).caller;
});
afterEach(async () => {
  await expectLedgerClean(db());
});
afterAll(async () => {
  await server?.close();
});

/**
 * A pack whose grants the database refuses until `heal()`: a trigger stands in for whatever broke
 * processing (a constraint, a bad deploy), and dropping it is the operator's fix.
 */
async function brokenPack(credits = 10) {
  const tag = uniqueId('retry').replace(/-/g, '_');
  const priceId = `price_${tag}`;
  await admin.admin.payments.prices.upsert({ priceId, kind: 'pack', credits });
  await db().execute(
    sql.raw(`create function fail_${tag}() returns trigger language plpgsql as $$
               begin if new.reason like '%${priceId}%' then raise exception 'grants of ${priceId} are refused'; end if; return new; end $$;
             create trigger fail_${tag} before insert on credit_grants for each row execute function fail_${tag}();`),
  );
  const userId = uniqueId('payer');
  await users.users.upsert({ userId, tier: 'free' });
  const heal = () => db().execute(sql.raw(`drop trigger fail_${tag} on credit_grants; drop function fail_${tag}();`));
  return { priceId, userId, heal };
}

const rowOf = async (eventId: string) => (await db().select().from(stripeEvents).where(eq(stripeEvents.eventId, eventId)))[0]!;
const grantsOf = (userId: string) => db().select().from(creditGrants).where(eq(creditGrants.userId, userId));
const retryAudits = (id: string) =>
  db()
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, 'payments.event.retry'), eq(auditLog.targetId, id)));

/** Delivers a paid checkout for the broken pack: Stripe is told 500 and the event is recorded as failed. */
async function failedCheckout(pack: { priceId: string; userId: string }) {
  const event = checkoutEvent({ userId: pack.userId, priceId: pack.priceId });
  const res = await postStripe(base, event);
  expect(res.status).toBe(500);
  const row = await rowOf(event.id);
  expect(row).toMatchObject({ outcome: 'failed', attempts: 1 });
  // The database's own words, not the ORM's "Failed query: …" with the SQL and its parameters.
  expect(row.error).toBe(`grants of ${pack.priceId} are refused (PostgreSQL P0001)`);
  return { event, id: String(row.id) };
}

describe('[PAYMENTS] retrying a failed Stripe event', () => {
  it('a failed event is applied from its stored payload once the fault is fixed: granted once, attempts counted, audited; a retry that fails again changes nothing', async () => {
    const pack = await brokenPack(10);
    const { event, id } = await failedCheckout(pack);

    // Still broken: the retry rolls back, the row stays failed with this attempt's error.
    const again = await admin.admin.payments.events.retry({ id });
    expect(again).toMatchObject({ id, outcome: 'failed', attempts: 2 });
    expect(again.error).toContain('are refused');
    expect((await balanceRow(db(), pack.userId)).bonus).toBe(0);
    expect(await grantsOf(pack.userId)).toHaveLength(0);

    await pack.heal();
    const done = await admin.admin.payments.events.retry({ id });
    expect(done).toMatchObject({ id, eventId: event.id, outcome: 'processed', error: null, attempts: 3, userId: pack.userId, creditsDelta: 10 });
    expect((await balanceRow(db(), pack.userId)).bonus).toBe(10);
    expect(await grantsOf(pack.userId)).toMatchObject([{ kind: 'paid', remaining: 10 }]);

    // Once processed, neither an admin nor Stripe applies it again.
    expect(await reasonOf(admin.admin.payments.events.retry({ id }))).toBe('CONFLICT');
    const redelivered = await postStripe(base, event);
    expect(redelivered).toMatchObject({ status: 200, body: { duplicate: true } });
    expect((await balanceRow(db(), pack.userId)).bonus).toBe(10);

    const audits = await retryAudits(id);
    expect(audits.map((a) => (a.after as { outcome: string }).outcome).sort()).toEqual(['failed', 'processed']);
    expect(audits.every((a) => a.actorAdminId !== null && (a.before as { outcome: string }).outcome === 'failed')).toBe(true);
  });

  it('five retries at once apply a failed event exactly once: one is processed, the others are refused as no longer failed', async () => {
    const pack = await brokenPack(7);
    const { id } = await failedCheckout(pack);
    await pack.heal();
    const results = await Promise.all(Array.from({ length: 5 }, () => reasonOf(admin.admin.payments.events.retry({ id }))));
    expect(results.filter((r) => r === 'OK')).toHaveLength(1);
    expect(results.filter((r) => r === 'CONFLICT')).toHaveLength(4);
    expect((await balanceRow(db(), pack.userId)).bonus).toBe(7);
    expect(await grantsOf(pack.userId)).toHaveLength(1);
    expect(await retryAudits(id)).toHaveLength(1);
  });

  it("a retry racing Stripe's own redelivery of the event applies it once", async () => {
    const pack = await brokenPack(4);
    const { event, id } = await failedCheckout(pack);
    await pack.heal();
    const [retried, redelivered] = await Promise.all([reasonOf(admin.admin.payments.events.retry({ id })), postStripe(base, event)]);
    expect(redelivered.status).toBe(200);
    // Whichever came first applied it; the other found it processed.
    expect(retried === 'OK' ? redelivered.body.duplicate : retried === 'CONFLICT' && redelivered.body.outcome === 'processed').toBe(true);
    expect((await balanceRow(db(), pack.userId)).bonus).toBe(4);
    expect(await grantsOf(pack.userId)).toHaveLength(1);
    expect(await rowOf(event.id)).toMatchObject({ outcome: 'processed', attempts: 2 });
  });

  it('only admins retry, only failed events, and only rows that exist', async () => {
    const pack = await brokenPack(3);
    const { id } = await failedCheckout(pack);
    expect(await reasonOf(analyst.admin.payments.events.retry({ id }))).toBe('FORBIDDEN');
    expect(
      (
        await db()
          .select()
          .from(stripeEvents)
          .where(eq(stripeEvents.id, Number(id)))
      )[0],
    ).toMatchObject({ outcome: 'failed', attempts: 1 });
    expect(await reasonOf(admin.admin.payments.events.retry({ id: '999999999' }))).toBe('NOT_FOUND');
    expect(await reasonOf(admin.admin.payments.events.retry({ id: 'evt_1' }))).toBe('BAD_REQUEST');
    const refused = await postStripe(base, checkoutEvent({ userId: pack.userId, priceId: pack.priceId }), { signature: 't=1,v1=forged' });
    expect(refused.status).toBe(400);
    const [refusal] = await db()
      .select()
      .from(stripeEvents)
      .where(eq(stripeEvents.outcome, 'refused'))
      .orderBy(sql`${stripeEvents.id} desc`)
      .limit(1);
    expect(await reasonOf(admin.admin.payments.events.retry({ id: String(refusal!.id) }))).toBe('CONFLICT');
    await pack.heal();
  });
});

describe('[PAYMENTS] a paid credit pack whose user cannot be found yet', () => {
  it('[PAYMENTS] a paid pack checkout naming a creditdesk user that does not exist yet is recorded failed (500, Stripe retries) and granted once, by Stripe’s redelivery or an admin’s retry, after the user exists', async () => {
    const priceId = `price_${uniqueId('later').replace(/-/g, '_')}`;
    await admin.admin.payments.prices.upsert({ priceId, kind: 'pack', credits: 6 });

    // Stripe's redelivery after the product app created the user.
    const byStripe = uniqueId('later');
    const early = checkoutEvent({ userId: byStripe, priceId });
    const first = await postStripe(base, early);
    expect(first.status).toBe(500);
    expect(await rowOf(early.id)).toMatchObject({
      outcome: 'failed',
      attempts: 1,
      error: `unknown user: metadata.creditdesk_user_id names ${byStripe}, which does not exist; the paid pack ${priceId} is granted once the user exists (Stripe's next delivery or an admin's retry)`,
    });
    expect(await db().select().from(stripePackGrants).where(eq(stripePackGrants.eventId, early.id))).toHaveLength(0);
    await users.users.upsert({ userId: byStripe, tier: 'free' });
    expect(await postStripe(base, early)).toMatchObject({ status: 200, body: { outcome: 'processed' } });
    expect(await rowOf(early.id)).toMatchObject({ outcome: 'processed', attempts: 2, error: null, userId: byStripe, creditsDelta: 6 });
    expect((await balanceRow(db(), byStripe)).bonus).toBe(6);
    expect(await postStripe(base, early)).toMatchObject({ status: 200, body: { duplicate: true } });

    // An admin's retry, once Stripe has given up: still missing, it stays failed; then granted once.
    const byAdmin = uniqueId('later');
    const late = checkoutEvent({ userId: byAdmin, priceId });
    expect((await postStripe(base, late)).status).toBe(500);
    const id = String((await rowOf(late.id)).id);
    expect(await admin.admin.payments.events.retry({ id })).toMatchObject({ outcome: 'failed', attempts: 2, error: expect.stringContaining(`names ${byAdmin}, which does not exist`) });
    await users.users.upsert({ userId: byAdmin, tier: 'free' });
    expect(await admin.admin.payments.events.retry({ id })).toMatchObject({ outcome: 'processed', attempts: 3, userId: byAdmin, creditsDelta: 6 });
    expect((await balanceRow(db(), byAdmin)).bonus).toBe(6);
    expect(await grantsOf(byAdmin)).toHaveLength(1);
    expect(await reasonOf(admin.admin.payments.events.retry({ id }))).toBe('CONFLICT');

    // A paid pack from a customer nobody is linked to yet, without metadata: failed until users.upsert links it.
    const customer = newCustomerId();
    const unlinked = checkoutEvent({ customer, priceId });
    expect((await postStripe(base, unlinked)).status).toBe(500);
    expect((await rowOf(unlinked.id)).error).toMatch(/^unknown customer: no user is linked to cus_/);
    const linked = uniqueId('linked');
    await users.users.upsert({ userId: linked, tier: 'free', stripeCustomerId: customer });
    expect(await admin.admin.payments.events.retry({ id: String((await rowOf(unlinked.id)).id) })).toMatchObject({ outcome: 'processed', userId: linked, creditsDelta: 6 });
    expect((await balanceRow(db(), linked)).bonus).toBe(6);
  });
});
