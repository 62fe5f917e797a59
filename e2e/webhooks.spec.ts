import { expect, test } from '@playwright/test';
import { startWebhookReceiver, verifyReceived } from '../server/test/webhook-receiver';
import { mutate, shot, signIn } from './helpers';

const stamp = () => `${Date.now()}${Math.floor(Math.random() * 1000)}`;

test('an admin registers a webhook endpoint, copies the secret shown once, sees the signed delivery and replays it; an analyst only reads', async ({ page, browser }) => {
  const receiver = await startWebhookReceiver();
  try {
    await page.goto('/webhooks');
    await signIn(page);
    await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();

    // Refused by the shared schema, under the fields: nothing registered.
    await page.getByRole('button', { name: 'Register endpoint' }).click();
    const dialog = page.getByRole('dialog', { name: 'Register webhook endpoint' });
    await dialog.getByLabel('URL').fill('ftp://nowhere');
    await dialog.getByRole('button', { name: 'Register endpoint' }).click();
    await expect(dialog.getByText('Url must be an http(s) URL')).toBeVisible();
    await expect(dialog.getByText('Pick at least one event')).toBeVisible();

    await dialog.getByLabel('URL').fill(receiver.url);
    await dialog.getByRole('checkbox', { name: /credits\.depleted/ }).check();
    await dialog.getByRole('button', { name: 'Register endpoint' }).click();
    const secret = await page.getByTestId('webhook-secret').inputValue();
    expect(secret).toMatch(/^whsec_/);
    const endpoints = page.getByTestId('webhook-endpoints-table');
    const row = endpoints.getByRole('row').filter({ hasText: receiver.url });
    await expect(row.getByText('Enabled')).toBeVisible();
    await page.getByTestId('webhook-secret-panel').getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('webhook-secret')).toHaveCount(0);

    // A product app spends a user's allowance: the depletion is delivered, signed.
    const s = stamp();
    const userId = `e2e-webhook-${s}`;
    const { secret: apiKey } = await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name: `e2e webhooks ${s}`, scopes: ['users:write', 'credits:write'] });
    await mutate(page.request, 'users.upsert', { userId, tier: 'plus' }, apiKey);
    await mutate(page.request, 'credits.consume', { userId, credits: 10, enhancementType: 'upscale', idempotencyKey: `e2e-webhook-${s}` }, apiKey);

    const deliveries = page.getByTestId('webhook-deliveries-table');
    await expect(deliveries.getByText('Delivered')).toBeVisible({ timeout: 30_000 });
    await expect(deliveries.getByText('HTTP 200')).toBeVisible();
    const [got] = receiver.of('credits.depleted', userId);
    expect(verifyReceived(secret, got!)).toMatchObject({ type: 'credits.depleted', data: { userId, balance: 0 } });
    const webhookId = got!.headers['webhook-id']!;
    await expect(deliveries.getByText(webhookId)).toBeVisible();
    await shot(page, 'webhooks-delivered');

    // The receiver now fails: a replay is sent again under the same webhook-id and its failure is logged.
    receiver.state.status = 500;
    await deliveries.getByRole('button', { name: `Replay ${webhookId}` }).click();
    await expect(page.getByText(`Delivery ${webhookId} queued again.`)).toBeVisible();
    await expect(deliveries.getByText('HTTP 500')).toBeVisible({ timeout: 30_000 });
    await expect(deliveries.getByText('Pending')).toBeVisible();
    expect(receiver.state.received.filter((r) => r.headers['webhook-id'] === webhookId)).toHaveLength(2);

    // Disable asks first.
    await row.getByRole('button', { name: `Disable ${receiver.url}` }).click();
    const confirm = page.getByRole('dialog', { name: 'Disable endpoint' });
    await confirm.getByRole('button', { name: 'Disable' }).click();
    await expect(row.getByText(/^Disabled/)).toBeVisible();

    // An analyst sees the endpoint and its deliveries, and no button that changes anything.
    const analyst = { email: `analyst-webhooks-${s}@example.com`, password: 'analyst-password-2025' };
    await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
    const context = await browser.newContext();
    const other = await context.newPage();
    await other.goto('/webhooks');
    await signIn(other, analyst.email, analyst.password);
    const theirRow = other.getByTestId('webhook-endpoints-table').getByRole('row').filter({ hasText: receiver.url });
    await expect(theirRow).toBeVisible();
    await expect(other.getByRole('button', { name: 'Register endpoint' })).toHaveCount(0);
    await expect(theirRow.getByRole('button', { name: /^(Enable|Disable|Delete|Rotate)/ })).toHaveCount(0);
    await theirRow.getByRole('button', { name: `Deliveries of ${receiver.url}` }).click();
    await expect(other.getByTestId('webhook-deliveries-table').getByText(webhookId)).toBeVisible();
    await expect(other.getByRole('button', { name: /^Replay/ })).toHaveCount(0);
    await context.close();

    // Delete asks first, then the endpoint is gone.
    await row.getByRole('button', { name: `Delete ${receiver.url}` }).click();
    await page.getByRole('dialog', { name: 'Delete endpoint' }).getByRole('button', { name: 'Delete endpoint' }).click();
    await expect(endpoints.getByText(receiver.url)).toHaveCount(0);
  } finally {
    await receiver.close();
  }
});
