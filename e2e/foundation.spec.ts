import { expect, test } from '@playwright/test';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './env';
import { shot, submitSignIn } from './helpers';

const sections = ['Dashboard', 'Users', 'Ledger', 'Pools', 'Providers', 'Alerts', 'Jobs', 'Usage', 'Webhooks', 'Audit log', 'Settings'];

test('admin signs in, creates an API key that works, and signs out', async ({ page, request }) => {
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await shot(page, 'login');

  // A wrong password reads as a sentence, not as JSON or a stack.
  await submitSignIn(page, ADMIN_EMAIL, 'definitely-not-the-password');
  await expect(page.getByTestId('login-error')).toHaveText('Wrong email or password.');
  await shot(page, 'login-error');

  // Enter submits; auth.me then shows the shell.
  await submitSignIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav).toBeVisible();
  for (const label of sections) await expect(nav.getByRole('link', { name: label })).toBeVisible();
  await expect(page.getByTestId('me-email')).toHaveText(ADMIN_EMAIL);
  await expect(page.getByTestId('me-role')).toHaveText('admin');
  await expect(page.getByRole('heading', { name: 'Dashboard', level: 1 })).toBeVisible();
  await shot(page, 'shell');

  // Keyboard navigation: `g u`, `?` help, Escape closes it, `g s` goes to Settings.
  await page.keyboard.press('g');
  await page.keyboard.press('u');
  await expect(page).toHaveURL(/\/users$/);
  await expect(page.getByRole('heading', { name: 'Users', level: 1 })).toBeVisible();
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await expect(help).toBeVisible();
  await shot(page, 'shortcuts');
  await page.keyboard.press('Escape');
  await expect(help).toBeHidden();
  await page.keyboard.press('g');
  await page.keyboard.press('s');
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByRole('heading', { name: 'API keys' })).toBeVisible();
  await expect(page.getByTestId('admins-table')).toContainText(ADMIN_EMAIL);

  // Create an API key: the shared schema refuses no scopes, then the key is created.
  await page.getByRole('button', { name: 'Create API key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create API key' });
  await expect(dialog.getByLabel('Name')).toBeFocused();
  await dialog.getByLabel('Name').fill('e2e product app');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog.getByText('Choose at least one scope')).toBeVisible();
  await shot(page, 'create-api-key');
  await dialog.getByRole('checkbox', { name: /users:write/ }).check();
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog).toBeHidden();

  const panel = page.getByTestId('secret-panel');
  await expect(panel).toContainText('you will not see it again');
  const secret = await page.getByTestId('api-key-secret').inputValue();
  expect(secret.length).toBeGreaterThan(20);
  const table = page.getByTestId('api-keys-table');
  await expect(table).toContainText('e2e product app');
  await expect(table).toContainText('users:write');
  await expect(page.getByTestId('toast').first()).toContainText('created');
  await shot(page, 'settings');

  // The product API accepts the new key.
  const res = await request.post('/trpc/users.upsert', {
    data: { userId: 'e2e-user-1', tier: 'pro' },
    headers: { Authorization: `Bearer ${secret}` },
  });
  expect(res.status()).toBe(200);
  const body = (await res.json()) as { result: { data: { userId: string; tier: string } } };
  expect(body.result.data).toMatchObject({ userId: 'e2e-user-1', tier: 'pro' });

  // Done hides the secret for good.
  await panel.getByRole('button', { name: 'Done' }).click();
  await expect(panel).toBeHidden();

  // Logout returns to the login page, and a reload stays there.
  await page.getByRole('button', { name: 'Logout' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
});

test('revoking a key locks its app out', async ({ page, request }) => {
  await page.goto('/settings');
  await submitSignIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Create API key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create API key' });
  const name = `short-lived key ${Date.now()}`;
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('checkbox', { name: /users:write/ }).check();
  await dialog.getByLabel('Name').press('Enter');
  const secret = await page.getByTestId('api-key-secret').inputValue();

  await page.getByRole('button', { name: `Revoke ${name}` }).click();
  const confirm = page.getByRole('dialog', { name: 'Revoke API key' });
  await expect(confirm).toContainText(name);
  await confirm.getByRole('button', { name: 'Revoke key' }).click();
  await expect(confirm).toBeHidden();
  const row = page.getByTestId('api-keys-table').getByRole('row', { name: new RegExp(name) });
  await expect(row).toContainText('Revoked');
  await expect(row.getByRole('button', { name: /Revoke/ })).toHaveCount(0);

  const res = await request.post('/trpc/users.upsert', {
    data: { userId: 'e2e-user-2', tier: 'free' },
    headers: { Authorization: `Bearer ${secret}` },
  });
  expect(res.status()).toBe(401);
});

test('an analyst created in Settings gets read-only Settings', async ({ page }) => {
  const analyst = { email: `analyst-${Date.now()}@example.com`, password: 'analyst-password-2025' };
  await page.goto('/settings');
  await submitSignIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Add account' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add account' });
  await dialog.getByLabel('Email').fill(analyst.email);
  await dialog.getByLabel('Role').selectOption('analyst');
  await dialog.getByLabel('Initial password').fill('short');
  await dialog.getByRole('button', { name: 'Create account' }).click();
  await expect(dialog.getByText('Password must be at least 12 characters')).toBeVisible();
  await dialog.getByLabel('Initial password').fill(analyst.password);
  await dialog.getByRole('button', { name: 'Create account' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('admins-table').getByRole('row', { name: new RegExp(analyst.email) })).toContainText('analyst');

  await page.getByRole('button', { name: 'Logout' }).click();
  await submitSignIn(page, analyst.email, analyst.password);
  await expect(page.getByTestId('me-role')).toHaveText('analyst');
  await expect(page.getByTestId('read-only-note')).toContainText('You have read-only access.');
  await expect(page.getByRole('button', { name: 'Create API key' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Add account' })).toHaveCount(0);
  await shot(page, 'settings-analyst');
});

test('repeated failures show the throttling message with a retry time', async ({ page }) => {
  await page.goto('/');
  // An unknown address, so the real admin is not locked out for the other tests.
  const nobody = `nobody-${Date.now()}@example.com`;
  for (let i = 0; i < 5; i++) {
    const answered = page.waitForResponse((r) => r.url().includes('/trpc/auth.login'));
    await submitSignIn(page, nobody, `wrong-password-${i}`);
    expect((await answered).status()).toBe(401);
    await expect(page.getByTestId('login-error')).toHaveText('Wrong email or password.');
  }
  await submitSignIn(page, nobody, 'wrong-password-again');
  await expect(page.getByTestId('login-error')).toHaveText(/^Too many failed sign-in attempts\. Try again in \d+ (seconds|minutes)\.$/);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeDisabled();
  await shot(page, 'login-throttled');
});

test('a session that ends while the app is open returns to the login page', async ({ page, context }) => {
  await page.goto('/settings');
  await submitSignIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await expect(page.getByTestId('admins-table')).toContainText(ADMIN_EMAIL);
  await page.getByRole('button', { name: 'Create API key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create API key' });
  await dialog.getByLabel('Name').fill('never created');
  await dialog.getByRole('checkbox', { name: /enhance/ }).check();
  // The session ends just before the submit: cleared earlier, any background query could find it
  // gone first and show the login page while the dialog was still being filled (seen once, loaded).
  await context.clearCookies();
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
});
