import { expect, test } from '@playwright/test';
import Stripe from 'stripe';
import { BASE_URL, E2E_STRIPE_SECRET } from './env';
import { mutate, signIn } from './helpers';

const stamp = () => `${Date.now()}${Math.floor(Math.random() * 1000)}`;

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
  const payload = JSON.stringify({
    id: eventId,
    object: 'event',
    type: 'checkout.session.completed',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: `cs_e2e_${s}`,
        object: 'checkout.session',
        mode: 'payment',
        payment_status: 'paid',
        payment_intent: `pi_e2e_${s}`,
        amount_total: 900,
        currency: 'usd',
        customer: null,
        metadata: { creditdesk_price_id: priceId, creditdesk_user_id: userId },
      },
    },
  });
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
