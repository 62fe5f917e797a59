/** Helpers every spec uses: screenshots into e2e/artifacts, signing in, and tRPC calls over HTTP. */
import { fileURLToPath } from 'node:url';
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from './env';

const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));

/** A whole-page screenshot, as the page is, into e2e/artifacts/<name>.png. */
export async function shot(page: Page, name: string) {
  await page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true });
}

/** The page scrolls inside #main: back to its top first, so the shot shows the page from its header. */
export async function shotFromTop(page: Page, name: string) {
  await page.locator('#main').evaluate((el) => el.scrollTo(0, 0));
  await shot(page, name);
}

/**
 * The page scrolls inside <main>, so the viewport grows to the content for a whole-page picture
 * (open toasts are dismissed first, and the viewport is back to 1280×800 afterwards).
 */
export async function shotWholeMain(page: Page, name: string) {
  for (const close of await page.getByTestId('toast').getByRole('button', { name: 'Dismiss' }).all()) await close.click();
  const height = await page.evaluate(() => document.getElementById('main')!.scrollHeight + 40);
  await page.setViewportSize({ width: 1280, height: Math.max(800, height) });
  await shot(page, name);
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Fills the login form and presses Enter, without waiting for the outcome (for refused sign-ins). */
export async function submitSignIn(page: Page, email: string, password: string) {
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter');
}

/** Signs in on the login page (the admin by default) and waits until the shell shows who is signed in. */
export async function signIn(page: Page, email = ADMIN_EMAIL, password = ADMIN_PASSWORD) {
  await submitSignIn(page, email, password);
  await expect(page.getByTestId('me-email')).toHaveText(email);
}

/**
 * A tRPC mutation over plain HTTP (no transformer): the input is the JSON body, the answer is
 * result.data. It runs with the request context's session cookie, or with an API key as bearer.
 */
export async function mutate<T>(request: APIRequestContext, procedure: string, input: unknown, bearer?: string): Promise<T> {
  const res = await request.post(`/trpc/${procedure}`, { data: input, headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} });
  expect(res.status(), `${procedure}: ${await res.text()}`).toBe(200);
  return ((await res.json()) as { result: { data: T } }).result.data;
}

/** A tRPC query over plain HTTP: the input (if any) is JSON in ?input=, the answer is result.data. */
export async function query<T>(request: APIRequestContext, procedure: string, input?: unknown): Promise<T> {
  const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const res = await request.get(`/trpc/${procedure}${qs}`);
  expect(res.status(), `${procedure}: ${await res.text()}`).toBe(200);
  return ((await res.json()) as { result: { data: T } }).result.data;
}

/** A provider (pool) name no earlier run on this database has used: `<tag>-<time and random suffix>`. */
export const uniqueProvider = (tag: string) => `${tag}-${(Date.now() % 1e9).toString(36)}${Math.floor(Math.random() * 100)}`;

/** A provider named `name` (inactive, answering nowhere), so a pool may be made for it: pools are refused for unknown providers. */
export async function ensureProvider(request: APIRequestContext, name: string, kind = 'kie') {
  await mutate(request, 'admin.providers.create', { name, kind, baseUrl: 'http://127.0.0.1:9', costPerRequest: '0.02', rateLimitPerMinute: 60, priority: 900, isActive: false });
}
