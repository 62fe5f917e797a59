import { expect, test } from '@playwright/test';
import { ensureProvider, mutate, query, shot, signIn, uniqueProvider } from './helpers';

type Provider = { name: string; isActive: boolean; archivedAt: string | null };
type Pool = { provider: string; status: string; availableBalance: number; archivedAt: string | null };

/*
 * Each test makes its own inactive provider (priority 900, answering nowhere) and leaves it
 * archived, so the fallback order other specs see is as it was.
 */

test('an admin sees a failed health check with its time, archives a provider, finds it under Show archived and restores it', async ({ page }) => {
  const name = uniqueProvider('arch');
  await page.goto('/providers');
  await signIn(page);
  await ensureProvider(page.request, name);
  await page.reload();
  const table = page.getByTestId('providers-table');
  const row = table.getByRole('row').filter({ has: page.locator(`[data-provider="${name}"]`) });
  await expect(row).toBeVisible();
  await expect(page.getByTestId(`health-error-${name}`)).toHaveCount(0);

  // Nothing answers on 127.0.0.1:9: the check fails and its error stays visible with its time.
  await row.getByRole('button', { name: `Test ${name} now` }).click();
  await expect(page.getByTestId('toast').filter({ hasText: `${name} failed its health check` })).toBeVisible();
  const health = page.getByTestId(`health-error-${name}`);
  await expect(health.locator('time')).toBeVisible();
  await expect(health).toContainText('health check: ');
  await expect(health).toHaveAttribute('title', /^Last failed health check .+: .+/);

  // Archive (from the provider's dialog) needs a reason; the provider leaves the default list and the fallback order.
  await row.getByRole('button', { name: `Edit ${name}` }).click();
  await page
    .getByRole('dialog', { name: `Edit provider ${name}` })
    .getByRole('button', { name: 'Archive provider…' })
    .click();
  const archive = page.getByRole('dialog', { name: `Archive ${name}` });
  await archive.getByRole('button', { name: 'Archive provider' }).click();
  await expect(archive.getByText('A reason of at least 3 characters is required')).toBeVisible();
  await archive.getByLabel('Reason').fill('e2e contract ended');
  await archive.getByRole('button', { name: 'Archive provider' }).click();
  await expect(archive).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Provider ${name} archived` })).toBeVisible();
  await expect(row).toHaveCount(0);

  await page.getByLabel('Show archived').check();
  await expect(row).toHaveCount(1);
  await expect(page.getByTestId(`archived-${name}`)).toBeVisible();
  // An archived row has no move buttons, and the last provider in the order still cannot move down past it.
  await expect(row.getByRole('button', { name: /Move/ })).toHaveCount(0);
  const moveDowns = table.getByRole('button', { name: /^Move .+ down$/ });
  await expect(moveDowns.last()).toBeDisabled();
  await expect(moveDowns.first()).toBeEnabled();
  await shot(page, 'providers-archived');

  await row.getByRole('button', { name: `Restore ${name}` }).click();
  const restore = page.getByRole('dialog', { name: `Restore ${name}` });
  await restore.getByLabel('Reason').fill('e2e contract renewed');
  await restore.getByRole('button', { name: 'Restore provider' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: `Provider ${name} restored, disabled` })).toBeVisible();
  await expect(page.getByTestId(`archived-${name}`)).toHaveCount(0);
  await expect(row.getByRole('switch', { name: `Active: ${name}` })).not.toBeChecked();
  const listed = await query<Provider[]>(page.request, 'admin.providers.list');
  expect(listed.find((p) => p.name === name)).toMatchObject({ isActive: false, archivedAt: null });

  await mutate(page.request, 'admin.providers.archive', { name, reason: 'e2e cleanup' });
});

test('a pool with credits is archived only with the explicit choice, hidden by default, and restored suspended', async ({ page }) => {
  const provider = uniqueProvider('parch');
  await page.goto('/pools');
  await signIn(page);
  await ensureProvider(page.request, provider);
  await mutate(page.request, 'admin.pools.create', { provider, costPerCredit: '0.05', autoRefillThreshold: 0, autoRefillAmount: 0 });
  await mutate(page.request, 'admin.pools.refill', { provider, amount: 40, reason: 'e2e archive balance' });
  await page.reload();
  const row = page.getByTestId('pools-table').getByRole('row').filter({ hasText: provider });
  await expect(page.getByTestId(`pool-available-${provider}`)).toHaveText('40');

  await row.getByRole('button', { name: `Archive ${provider}` }).click();
  const dialog = page.getByRole('dialog', { name: `Archive ${provider}` });
  await dialog.getByLabel('Reason').fill('e2e moving on');
  await dialog.getByRole('button', { name: 'Archive pool' }).click();
  await expect(dialog.getByText('Tick this to archive a pool that still holds credits')).toBeVisible();
  await dialog.getByLabel('Archive it with its balance of 40 credits ($2.00)').check();
  await dialog.getByRole('button', { name: 'Archive pool' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('toast').filter({ hasText: `Pool ${provider} archived` })).toBeVisible();
  await expect(row).toHaveCount(0);

  await page.getByLabel('Show archived').check();
  await expect(page.getByTestId(`pool-archived-${provider}`)).toBeVisible();
  await expect(row.getByRole('button', { name: `Refill ${provider}` })).toHaveCount(0);
  await shot(page, 'pools-archived');
  await row.getByRole('button', { name: `Restore ${provider}` }).click();
  const restore = page.getByRole('dialog', { name: `Restore ${provider}` });
  await restore.getByLabel('Reason').fill('e2e back in use');
  await restore.getByRole('button', { name: 'Restore pool' }).click();
  await expect(page.getByTestId('toast').filter({ hasText: `Pool ${provider} restored, still suspended` })).toBeVisible();
  await expect(page.getByTestId(`pool-archived-${provider}`)).toHaveCount(0);
  const pool = await query<Pool>(page.request, 'admin.pools.get', { provider });
  expect(pool).toMatchObject({ status: 'suspended', availableBalance: 40, archivedAt: null });

  await mutate(page.request, 'admin.pools.archive', { provider, reason: 'e2e cleanup', archiveWithBalance: true });
  await mutate(page.request, 'admin.providers.archive', { name: provider, reason: 'e2e cleanup' });
});

test('an analyst sees archived providers and pools under Show archived without archive or restore controls', async ({ page, browser }) => {
  const analyst = { email: `analyst-archive-${uniqueProvider('a')}@example.com`, password: 'analyst-password-2025' };
  const name = uniqueProvider('roarch');
  await page.goto('/providers');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...analyst, role: 'analyst' });
  await ensureProvider(page.request, name);
  await mutate(page.request, 'admin.pools.create', { provider: name, costPerCredit: '0.05', autoRefillThreshold: 0, autoRefillAmount: 0 });
  await mutate(page.request, 'admin.pools.archive', { provider: name, reason: 'e2e analyst view' });
  await mutate(page.request, 'admin.providers.archive', { name, reason: 'e2e analyst view' });

  const context = await browser.newContext();
  const other = await context.newPage();
  await other.goto('/providers');
  await signIn(other, analyst.email, analyst.password);
  await other.getByLabel('Show archived').check();
  await expect(other.getByTestId(`archived-${name}`)).toBeVisible();
  await expect(other.getByTestId('providers-table').getByRole('button', { name: /Archive|Restore/ })).toHaveCount(0);
  await other.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Pools' }).click();
  await other.getByLabel('Show archived').check();
  await expect(other.getByTestId(`pool-archived-${name}`)).toBeVisible();
  await expect(other.getByTestId('pools-table').getByRole('button', { name: /Archive|Restore/ })).toHaveCount(0);
  await context.close();
});
