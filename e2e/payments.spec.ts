import { readFileSync } from 'node:fs';
import { expect, test, type APIRequestContext } from '@playwright/test';
import postgres from 'postgres';
import Stripe from 'stripe';
import { BASE_URL, databaseUrlFile, E2E_PORT, E2E_STRIPE_SECRET } from './env';
import { mutate, query, signIn } from './helpers';

const stamp = () => `${Date.now()}${Math.floor(Math.random() * 1000)}`;

/** A paid checkout.session.completed for a pack, as Stripe sends it (the fields Creditdesk reads). */
const paidCheckout = (eventId: string, tag: string, meta: { priceId: string; userId: string }) => ({
  id: eventId,
  object: 'event',
  type: 'checkout.session.completed',
  created: Math.floor(Date.now() / 1000),
  data: {
    object: {
      id: `cs_${tag}`,
      object: 'checkout.session',
      mode: 'payment',
      payment_status: 'paid',
      payment_intent: `pi_${tag}`,
      amount_total: 900,
      currency: 'usd',
      customer: null,
      metadata: { creditdesk_price_id: meta.priceId, creditdesk_user_id: meta.userId },
    },
  },
});

/** POSTs a Stripe event signed with the server's secret, as Stripe would. */
async function deliver(request: APIRequestContext, event: Record<string, unknown>) {
  const payload = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: E2E_STRIPE_SECRET });
  return request.post(`${BASE_URL}/webhooks/stripe`, { data: payload, headers: { 'content-type': 'application/json', 'stripe-signature': signature } });
}

test('an admin maps a Stripe price to a credit pack on the Payments page and sees the paid checkout granted and a forged event refused', async ({ page }) => {
  const s = stamp();
  const priceId = `price_e2e_${s}`;
  await page.goto('/payments');
  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Payments', level: 1 })).toBeVisible();

  // The shared schema refuses a pack without credits, under its field.
  const form = page.getByRole('form', { name: 'Map a price' });
  await form.getByLabel('Stripe price').fill(priceId);
  await form.getByLabel('Kind').selectOption('pack');
  await form.getByRole('button', { name: 'Save mapping' }).click();
  await expect(form.getByText('A pack needs its number of credits')).toBeVisible();
  await form.getByLabel('Credits').fill('12');
  await form.getByRole('button', { name: 'Save mapping' }).click();
  const mapping = page.getByTestId('price-mapping-table').getByRole('row').filter({ hasText: priceId });
  await expect(mapping.getByText('12 credits')).toBeVisible();

  // Edit it in place: the form takes the row, a new credit count replaces the old one.
  await mapping.getByRole('button', { name: `Edit ${priceId}` }).click();
  await expect(form.getByLabel('Stripe price')).toHaveValue(priceId);
  await form.getByLabel('Credits').fill('15');
  await form.getByRole('button', { name: 'Save mapping' }).click();
  await expect(mapping.getByText('15 credits')).toBeVisible();

  // A product app's user pays for the pack: Stripe's signed event grants it.
  const userId = `e2e-pay-${s}`;
  const { secret: apiKey } = await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e payments ${s}`, scopes: ['users:write'] });
  await mutate(page.request, 'users.upsert', { userId, tier: 'free' }, apiKey);
  const eventId = `evt_e2e_${s}`;
  const payload = JSON.stringify(paidCheckout(eventId, `e2e_${s}`, { priceId, userId }));
  const post = (signature: string) => page.request.post(`${BASE_URL}/webhooks/stripe`, { data: payload, headers: { 'content-type': 'application/json', 'stripe-signature': signature } });
  expect((await post(Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_forged' }))).status()).toBe(400);
  expect((await post(Stripe.webhooks.generateTestHeaderString({ payload, secret: E2E_STRIPE_SECRET }))).status()).toBe(200);

  // The table polls every 10 s; a reload shows the events at once.
  await page.reload();
  const events = page.getByTestId('stripe-events-table');
  const granted = events.getByRole('row').filter({ hasText: eventId });
  await expect(granted.getByText('processed')).toBeVisible();
  await expect(granted.getByText('+15')).toBeVisible();
  await expect(granted.getByText(userId)).toBeVisible();
  await page.getByLabel('Outcome').selectOption('refused');
  await expect(events.getByRole('row').filter({ hasText: 'signature refused' }).first()).toBeVisible();
  await expect(events.getByText('processed')).toHaveCount(0);
});

test('an admin retries a failed Stripe event from the Payments page once its cause is fixed, and pages back through older events', async ({ page }) => {
  const s = stamp();
  const priceId = `price_e2e_retry_${s}`;
  const userId = `e2e-retry-${s}`;
  await page.goto('/payments');
  await signIn(page);
  await mutate(page.request, 'admin.payments.prices.upsert', { priceId, kind: 'pack', credits: 9 });
  const { secret: apiKey } = await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e retry ${s}`, scopes: ['users:write'] });
  await mutate(page.request, 'users.upsert', { userId, tier: 'free' }, apiKey);

  // The fault: the database refuses this pack's grants (a trigger stands in for a broken constraint or deploy).
  const sql = postgres(readFileSync(databaseUrlFile(E2E_PORT), 'utf8'), { max: 1, onnotice: () => {} });
  const fn = `e2e_fail_${s}`;
  try {
    await sql.unsafe(`create function ${fn}() returns trigger language plpgsql as $$
      begin if new.reason like '%${priceId}%' then raise exception 'grants of ${priceId} are refused'; end if; return new; end $$;
      create trigger ${fn} before insert on credit_grants for each row execute function ${fn}();`);
    const eventId = `evt_e2e_retry_${s}`;
    const checkout = paidCheckout(eventId, `e2e_retry_${s}`, { priceId, userId });
    expect((await deliver(page.request, checkout)).status()).toBe(500);

    await page.reload();
    await page.getByLabel('Outcome').selectOption('failed');
    const events = page.getByTestId('stripe-events-table');
    const row = events.getByRole('row').filter({ hasText: eventId });
    await expect(row.getByText(`grants of ${priceId} are refused`)).toBeVisible();
    const retry = row.getByRole('button', { name: `Retry ${eventId}` });

    // Retried before the fix: it fails again, says why, and counts the attempt.
    await retry.click();
    await expect(page.getByText(`Retry of ${eventId} failed again: grants of ${priceId} are refused`)).toBeVisible();
    await expect(row.getByRole('cell', { name: '2', exact: true })).toBeVisible();

    await sql.unsafe(`drop trigger ${fn} on credit_grants; drop function ${fn}();`);
    await retry.click();
    await expect(page.getByText(`${eventId} retried: processed, granted 9 credits`)).toBeVisible();
    // No longer failed: it leaves the filtered list, and shows as processed with its credits under All.
    await expect(row).toHaveCount(0);
    await page.getByLabel('Outcome').selectOption('');
    await expect(row.getByText('processed')).toBeVisible();
    await expect(row.getByText('+9')).toBeVisible();
    await expect(row.getByRole('button', { name: /Retry/ })).toHaveCount(0);
    expect((await query<{ bonusBalance: number }>(page.request, 'admin.users.get', { userId })).bonusBalance).toBe(9);
  } finally {
    await sql.unsafe(`drop trigger if exists ${fn} on credit_grants; drop function if exists ${fn}();`);
    await sql.end();
  }

  // Paging: 51 more events (of a type Creditdesk ignores) than one page holds; older ones load on request.
  for (let i = 0; i < 51; i++) {
    const res = await deliver(page.request, {
      id: `evt_e2e_page_${s}_${i}`,
      object: 'event',
      type: 'invoice.created',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: `in_${s}_${i}`, object: 'invoice' } },
    });
    expect(res.status()).toBe(200);
  }
  await page.reload();
  await page.getByLabel('Outcome').selectOption('ignored');
  const ignoredRows = page.getByTestId('stripe-events-table').locator('tbody tr');
  await expect(ignoredRows).toHaveCount(50);
  await expect(page.getByText(`evt_e2e_page_${s}_50`)).toBeVisible();
  await expect(page.getByText(`evt_e2e_page_${s}_0`, { exact: true })).toHaveCount(0);
  await page.getByRole('button', { name: 'Load older events' }).click();
  await expect(page.getByText(`evt_e2e_page_${s}_0`, { exact: true })).toBeVisible();
  expect(await ignoredRows.count()).toBeGreaterThan(50);
});
