import { expect, test, type Page } from '@playwright/test';
import { Secret, TOTP } from 'otpauth';
import { mutate, shot, shotWholeMain, signIn, submitSignIn } from './helpers';

const stamp = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;

/** Calls users.upsert with `secret` as the bearer and answers the HTTP status and the error message. */
async function callWithKey(page: Page, secret: string) {
  const res = await page.request.post('/trpc/users.upsert', { data: { userId: `sec-${stamp()}`, tier: 'free' }, headers: { Authorization: `Bearer ${secret}` } });
  const body = (await res.json()) as { error?: { message: string } };
  return { status: res.status(), message: body.error?.message ?? null };
}

/** An account made by the admin over the API (the admin's session in `page`), then that session ended. */
async function newAccount(page: Page, role: 'admin' | 'analyst') {
  const account = { email: `${role}-${stamp()}@example.com`, password: `${role}-password-${stamp()}` };
  await page.goto('/');
  await signIn(page);
  await mutate(page.request, 'admin.admins.create', { ...account, role });
  await page.getByRole('button', { name: 'Logout' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
  return account;
}

const keyRow = (page: Page, name: string) => page.getByTestId('api-keys-table').getByRole('row', { name: new RegExp(name) });

test('an API key is rotated: the old secret works through its grace period, and a rotation with no grace ends it at once', async ({ page }) => {
  const name = `rotating-${stamp()}`;
  await page.goto('/settings');
  await signIn(page);

  // A past expiry is refused in the form.
  await page.getByRole('button', { name: 'Create API key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Create API key' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByRole('checkbox', { name: /users:write/ }).check();
  await dialog.getByLabel('Expires (optional)').fill('2020-01-01T10:00');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog.getByText('Choose a time in the future')).toBeVisible();
  await dialog.getByLabel('Expires (optional)').fill('2099-06-30T12:00');
  await dialog.getByRole('button', { name: 'Create key' }).click();
  await expect(dialog).toBeHidden();
  const first = await page.getByTestId('api-key-secret').inputValue();
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(keyRow(page, name)).toContainText('2099');
  expect((await callWithKey(page, first)).status).toBe(200);

  // Rotation with an hour's grace: both secrets work, the row names the old one and its end.
  await keyRow(page, name)
    .getByRole('button', { name: `Rotate ${name}` })
    .click();
  const rotate = page.getByRole('dialog', { name: 'Rotate API key' });
  await rotate.getByLabel('Old secret keeps working for').selectOption({ label: '1 hour' });
  await rotate.getByRole('button', { name: 'Rotate key' }).click();
  await expect(page.getByTestId('rotation-note')).toContainText(`The old secret (${first.slice(0, 14)}…) keeps working until`);
  const second = await page.getByTestId('api-key-secret').inputValue();
  expect(second).not.toBe(first);
  await expect(keyRow(page, name).getByTestId('previous-secret')).toContainText(first.slice(0, 14));
  await shot(page, 'api-key-rotated');
  await page.getByRole('button', { name: 'Done' }).click();
  expect((await callWithKey(page, first)).status).toBe(200);
  expect((await callWithKey(page, second)).status).toBe(200);

  // A second rotation with no grace: the first secret's grace ends, and the second stops at once.
  await keyRow(page, name)
    .getByRole('button', { name: `Rotate ${name}` })
    .click();
  await rotate.getByLabel('Old secret keeps working for').selectOption({ label: 'Stop at once' });
  await rotate.getByRole('button', { name: 'Rotate key' }).click();
  await expect(page.getByTestId('rotation-note')).toHaveText('The old secret stopped working now.');
  const third = await page.getByTestId('api-key-secret').inputValue();
  await page.getByRole('button', { name: 'Done' }).click();
  // The first secret is forgotten altogether; the second is known as rotated out, and says so.
  expect((await callWithKey(page, first)).status).toBe(401);
  const refused = await callWithKey(page, second);
  expect(refused.status).toBe(401);
  expect(refused.message).toMatch(/^This API key secret was replaced by a rotation and stopped working at /);
  expect((await callWithKey(page, third)).status).toBe(200);
  await expect(keyRow(page, name).getByTestId('previous-secret')).toHaveCount(0);

  // Four calls went through: the 30-day usage shows them. Usage is counted in memory and written
  // once a second (ADR 017), so the last call may reach the table after a first reload.
  await expect(async () => {
    await page.reload();
    await expect(keyRow(page, name).getByTestId('usage-sparkline')).toHaveAttribute('aria-label', '4 calls in the last 30 days', { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
});

test("an API key's name and scopes are edited in place: the secret stays, and a removed scope refuses the very next call", async ({ page }) => {
  const name = `editing-${stamp()}`;
  await page.goto('/settings');
  await signIn(page);
  const { secret } = await mutate<{ secret: string }>(page.request, 'admin.apiKeys.create', { name, scopes: ['users:write', 'credits:read'] });
  const userId = `edit-${stamp()}`;
  await mutate(page.request, 'users.upsert', { userId, tier: 'plus' }, secret);
  const readBalance = () =>
    page.request.get(`/trpc/credits.balance?input=${encodeURIComponent(JSON.stringify({ userId }))}`, { headers: { Authorization: `Bearer ${secret}` } }).then((r) => r.status());
  expect(await readBalance()).toBe(200);
  await page.reload();

  await keyRow(page, name)
    .getByRole('button', { name: `Edit ${name}` })
    .click();
  const dialog = page.getByRole('dialog', { name: 'Edit API key' });
  // No scope at all is refused in the form.
  await dialog.getByRole('checkbox', { name: /users:write/ }).uncheck();
  await expect(dialog.getByTestId('scope-removal-warning')).toContainText('users:write');
  await dialog.getByRole('checkbox', { name: /credits:read/ }).uncheck();
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(dialog.getByText('choose at least one scope')).toBeVisible();
  await dialog.getByRole('checkbox', { name: /credits:read/ }).check();
  await dialog.getByLabel('Name').fill(`${name}-renamed`);
  await dialog.getByRole('button', { name: 'Save changes' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText(`API key “${name}-renamed” saved.`)).toBeVisible();
  await expect(keyRow(page, `${name}-renamed`)).toContainText('credits:read');
  await expect(keyRow(page, `${name}-renamed`)).not.toContainText('users:write');

  // The same secret: refused for the removed scope, still accepted for the one it kept.
  expect((await callWithKey(page, secret)).status).toBe(403);
  expect(await readBalance()).toBe(200);
});

test('an account created without a password must replace the generated one before anything else', async ({ page }) => {
  const email = `forced-${stamp()}@example.com`;
  await page.goto('/settings');
  await signIn(page);
  await page.getByRole('button', { name: 'Add account' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add account' });
  await dialog.getByLabel('Email').fill(email);
  await dialog.getByLabel('Role').selectOption('admin');
  await dialog.getByRole('button', { name: 'Create account' }).click();
  await expect(dialog).toBeHidden();
  const generated = await page.getByTestId('generated-password').inputValue();
  expect(generated).toMatch(/^[A-Za-z0-9_-]{24}$/);
  await expect(page.getByTestId('admins-table').getByRole('row', { name: new RegExp(email) })).toContainText('must change password');
  await page.getByRole('button', { name: 'Logout' }).click();

  await submitSignIn(page, email, generated);
  const forced = page.getByTestId('forced-password');
  await expect(forced).toBeVisible();
  await expect(page.getByTestId('me-email')).toHaveCount(0);
  // The server, not just the screen, refuses the session everything else.
  const refused = await page.request.get('/trpc/admin.dashboard');
  expect(refused.status()).toBe(403);
  expect(((await refused.json()) as { error: { data: { reason: string } } }).error.data.reason).toBe('PASSWORD_CHANGE_REQUIRED');
  await shot(page, 'forced-password-change');

  await forced.getByLabel('Generated password').fill(generated);
  await forced.getByLabel('New password', { exact: true }).fill('my own admin password');
  await forced.getByLabel('New password again').fill('my own admin passwrd');
  await forced.getByRole('button', { name: 'Set password and continue' }).click();
  await expect(forced.getByText('The two new passwords differ.')).toBeVisible();
  await forced.getByLabel('New password again').fill('my own admin password');
  await forced.getByRole('button', { name: 'Set password and continue' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(email);
  expect((await page.request.get('/trpc/admin.dashboard')).status()).toBe(200);
});

test('two-factor sign-in: set up from the QR dialog, then signing in asks for the code; a recovery code works once', async ({ page }) => {
  const account = await newAccount(page, 'admin');
  await signIn(page, account.email, account.password);
  await page.goto('/settings');
  await page.getByRole('button', { name: 'Set up two-factor' }).click();
  const setup = page.getByRole('dialog', { name: 'Set up two-factor sign-in' });
  await expect(setup.getByRole('img', { name: /QR code/ })).toBeVisible();
  const secret = (await setup.getByTestId('totp-secret').textContent())!.trim();
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  await setup.getByLabel('Code from the app').fill('000000' === totp.generate() ? '111111' : '000000');
  await setup.getByRole('button', { name: 'Turn on' }).click();
  await expect(setup.getByRole('alert')).toContainText('That code is not right');
  await setup.getByLabel('Code from the app').fill(totp.generate());
  await shot(page, 'totp-setup');
  await setup.getByRole('button', { name: 'Turn on' }).click();
  const saved = page.getByRole('dialog', { name: 'Save your recovery codes' });
  await expect(saved.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
  const codes = (await saved.getByTestId('recovery-codes').locator('li').allTextContents()).map((c) => c.trim());
  expect(codes).toHaveLength(10);
  await saved.getByRole('button', { name: 'I have stored them' }).click();
  await expect(page.getByTestId('two-factor')).toContainText('10 of 10 recovery codes left');
  await page.getByRole('button', { name: 'Logout' }).click();

  // The password alone moves the form to the code step; a wrong code is refused.
  await submitSignIn(page, account.email, account.password);
  const code = page.getByLabel('Two-factor code');
  await expect(code).toBeVisible();
  await code.fill('12345a');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('login-error')).toContainText('wrong or was already used');
  // The setup spent this time step's code; the next step's is valid now (one step of drift) and unused.
  await code.fill(totp.generate({ timestamp: Date.now() + 30_000 }));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(account.email);
  await page.getByRole('button', { name: 'Logout' }).click();

  // A recovery code signs in once.
  await submitSignIn(page, account.email, account.password);
  await page.getByLabel('Two-factor code').fill(codes[0]!);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('me-email')).toHaveText(account.email);
  await page.goto('/settings');
  await expect(page.getByTestId('two-factor')).toContainText('9 of 10 recovery codes left');
  await page.getByRole('button', { name: 'Logout' }).click();
  await submitSignIn(page, account.email, account.password);
  await page.getByLabel('Two-factor code').fill(codes[0]!);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByTestId('login-error')).toContainText('wrong or was already used');
});

test('a session revoked from Settings is signed out in the other browser', async ({ page, browser }) => {
  const account = await newAccount(page, 'analyst');
  const other = await browser.newContext();
  const phone = await other.newPage();
  try {
    await phone.goto('/');
    await signIn(phone, account.email, account.password);
    await signIn(page, account.email, account.password);
    await page.goto('/settings');
    const table = page.getByTestId('sessions-table');
    await expect(table.getByRole('row')).toHaveCount(3);
    await expect(table.getByRole('row', { name: /this browser/ })).toHaveCount(1);
    await shotWholeMain(page, 'sessions');
    await table.getByRole('button', { name: /^Revoke session .*(?<!\(this browser\))$/ }).click();
    await page.getByRole('dialog', { name: 'Revoke session' }).getByRole('button', { name: 'Revoke session' }).click();
    await expect(table.getByRole('row')).toHaveCount(2);

    await phone.reload();
    await expect(phone.getByRole('button', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByTestId('me-email')).toHaveText(account.email);
  } finally {
    await other.close();
  }
});

test('an analyst sees none of the admin-only security controls, and the server refuses them', async ({ page }) => {
  const analyst = await newAccount(page, 'analyst');
  await signIn(page, analyst.email, analyst.password);
  await page.goto('/settings');
  await expect(page.getByTestId('read-only-note')).toBeVisible();
  for (const name of ['Create API key', 'Add account']) await expect(page.getByRole('button', { name })).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Rotate / })).toHaveCount(0);
  await expect(page.getByTestId('api-keys-table')).toHaveCount(0);
  await expect(page.getByTestId('admins-table')).toHaveCount(0);
  // Their own account's security is theirs to manage.
  await expect(page.getByRole('button', { name: 'Set up two-factor' })).toBeVisible();
  await expect(page.getByTestId('sessions-table')).toBeVisible();
  const rotate = await page.request.post('/trpc/admin.apiKeys.rotate', { data: { id: '00000000-0000-4000-8000-000000000000', graceMinutes: 0 } });
  expect(rotate.status()).toBe(403);
  expect((await page.request.get('/trpc/admin.apiKeys.usage')).status()).toBe(403);
  expect((await page.request.post('/trpc/admin.admins.create', { data: { email: `x-${stamp()}@example.com`, role: 'admin' } })).status()).toBe(403);
});
