import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOT_ELEMENT_ID, type BootData } from '../../shared/boot';
import { recordAlert } from '../alerts/alert-sink';
import { createAdmin, updateAdmin } from '../auth/admins';
import { cliActor } from '../auth/audit';
import { login } from '../auth/sessions';
import type { LiveServer } from '../faults/lib/live-server';
import { startSpaServer } from '../faults/lib/spa-server';
import { createTestEnv, signedInCaller, uniqueId, type TestEnv } from '../test/harness';
import { bootTemplate, scriptJson } from './boot-page';

/**
 * [BOOT] The SPA's page carries a signed-in admin's first answers (auth.me, and on `/` the
 * dashboard's figures), exactly as the procedures give them and to that admin alone; everyone else
 * gets the page as built. Nothing in it can close its script element.
 */

// As vite builds client/index.html: the auth.me preload (and its comment) in the head, the root in the body.
const INDEX = `<!doctype html>
<html lang="en">
  <head>
    <title>Creditdesk</title>
    <!-- Every load starts with auth.me: asked while the scripts download. -->
    <link rel="preload" href="/trpc/auth.me" as="fetch" crossorigin="anonymous" />
    <script type="module" crossorigin src="/assets/index-abc.js"></script>
  </head>
  <body>
    <div id="root"></div>
  </body>
</html>
`;

let env: TestEnv;
/** Waits as long as the setting allows for the figures, so a busy machine cannot leave them out of a page that should carry them. */
let server: LiveServer;
/** Waits the default 300 ms: for the page that goes without figures slower than that. */
const QUICK_WAIT_MS = 300;
let quick: LiveServer;

beforeAll(async () => {
  env = await createTestEnv();
  server = await startSpaServer(env, { 'index.html': INDEX }, { BOOT_FIGURES_WAIT_MS: '5000' });
  quick = await startSpaServer(env, { 'index.html': INDEX }, { BOOT_FIGURES_WAIT_MS: String(QUICK_WAIT_MS) });
});
afterAll(async () => {
  await server?.close();
  await quick?.close();
  await env?.close();
});

const page = (url: string, token?: string, from: LiveServer = server) => fetch(`${from.origin}${url}`, { headers: { accept: 'text/html', ...(token ? { cookie: `cd_session=${token}` } : {}) } });

/** Holds system_alerts locked (the dashboard reads it; the session lookup does not) while `during` runs. */
async function withDashboardStalled<T>(during: (release: () => void) => Promise<T>): Promise<T> {
  const other = postgres(env.databaseUrl, { max: 1, onnotice: () => {} });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const holder = other.begin(async (tx) => {
    await tx`lock table system_alerts in access exclusive mode`;
    locked();
    await released;
  });
  try {
    await isLocked;
    return await during(release);
  } finally {
    release();
    await holder;
    await other.end();
  }
}

/** The boot data a page carries, or null. */
function bootOf(html: string): BootData | null {
  const m = new RegExp(`<script type="application/json" id="${BOOT_ELEMENT_ID}">([^<]*)</script>`).exec(html);
  return m ? (JSON.parse(m[1]!) as BootData) : null;
}

async function trpcGet(procedure: string, token: string): Promise<unknown> {
  const res = await fetch(`${server.origin}/trpc/${procedure}`, { headers: { cookie: `cd_session=${token}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { result: { data: unknown } }).result.data;
}

describe('[BOOT] the SPA page', () => {
  it('a visitor without a session gets the page as built: the auth.me preload, no boot data, not cached', async () => {
    for (const url of ['/', '/ledger', '/index.html']) {
      const res = await page(url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toContain('text/html');
      expect(res.headers.get('cache-control'), url).toBe('no-store');
      expect(res.headers.get('vary'), url).toContain('Cookie');
      expect(res.headers.get('content-security-policy'), url).toContain("script-src 'self'");
      expect(await res.text(), url).toBe(INDEX);
    }
  });

  it('an unknown session, or a disabled admin’s, gets the page as built', async () => {
    expect(await (await page('/', 'not-a-session')).text()).toBe(INDEX);
    const { admin, token } = await signedInCaller(env.deps, 'admin');
    await updateAdmin(env.deps.dbHandle.db, cliActor, { id: admin.id, disabled: true });
    expect(await (await page('/', token)).text()).toBe(INDEX);
  });

  it('a signed-in admin’s `/` carries auth.me’s and admin.dashboard’s answers as tRPC gives them, without the auth.me preload', async () => {
    const { token } = await signedInCaller(env.deps, 'admin');
    const res = await page('/', token);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).not.toContain('/trpc/auth.me');
    expect(html).toContain('<script type="module" crossorigin src="/assets/index-abc.js"></script>');
    const boot = bootOf(html);
    expect(boot?.me).toEqual(await trpcGet('auth.me', token));
    const { generatedAt, ...figures } = (await trpcGet('admin.dashboard', token)) as { generatedAt: string };
    expect(boot?.dashboard).toMatchObject(figures);
    expect(Date.parse(boot!.dashboard!.generatedAt)).toBeLessThanOrEqual(Date.parse(generatedAt));
    // The data sits at the end of the body, where the app's deferred scripts find it parsed.
    expect(html.indexOf(BOOT_ELEMENT_ID)).toBeGreaterThan(html.indexOf('<div id="root"></div>'));
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('an analyst’s `/` carries the figures too; any other route carries auth.me alone', async () => {
    const { token } = await signedInCaller(env.deps, 'analyst');
    expect(bootOf(await (await page('/', token)).text())?.dashboard).toBeDefined();
    for (const url of ['/ledger', '/users?q=x', '/index.html']) {
      const boot = bootOf(await (await page(url, token)).text());
      expect(boot?.me.role, url).toBe('analyst');
      expect(boot && 'dashboard' in boot, url).toBe(false);
    }
  });

  it('an admin who must change the password gets auth.me’s answer saying so, and no figures', async () => {
    const email = `${uniqueId('forced')}@example.com`;
    const password = 'correct horse battery staple';
    await createAdmin(env.deps.dbHandle.db, cliActor, { email, role: 'admin', password, mustChangePassword: true });
    const session = await login(env.deps.dbHandle.db, env.deps.throttle, 1, { email, password, address: '10.0.0.1' });
    const boot = bootOf(await (await page('/', session.token)).text());
    expect(boot).toEqual({ me: expect.objectContaining({ email, mustChangePassword: true }) });
  });

  it('the head (the scripts’ tags) goes out before the figures are read; the figures follow in the same page', async () => {
    const { token } = await signedInCaller(env.deps, 'admin');
    const html = await withDashboardStalled(async (release) => {
      const res = await page('/', token);
      const reader = res.body!.getReader();
      let html = '';
      // Read while the dashboard cannot answer: whatever arrives is what went out before the figures.
      while (!html.includes('<div id="root"></div>')) {
        const chunk = await reader.read();
        expect(chunk.done).toBe(false);
        html += new TextDecoder().decode(chunk.value);
      }
      expect(html).toContain('<script type="module" crossorigin src="/assets/index-abc.js"></script>');
      expect(html).not.toContain(BOOT_ELEMENT_ID);
      release();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) html += new TextDecoder().decode(chunk.value);
      return html;
    });
    expect(bootOf(html)?.dashboard).toBeDefined();
  });

  it('figures slower than the wait are left out, so the page is never held longer than that', async () => {
    const { token } = await signedInCaller(env.deps, 'admin');
    await withDashboardStalled(async () => {
      const started = performance.now();
      const html = await (await page('/', token, quick)).text();
      const took = performance.now() - started;
      const boot = bootOf(html);
      expect(boot?.me).toBeDefined();
      expect(boot && 'dashboard' in boot).toBe(false);
      expect(took).toBeGreaterThanOrEqual(QUICK_WAIT_MS - 5);
    });
  });

  it('an alert’s text cannot close the script element or the page: it arrives as written', async () => {
    const message = 'provider said </script><script>alert(1)</script> <!-- & \u2028\u2029 -->';
    await recordAlert(env.deps.dbHandle.db, { type: 'provider_failure', level: 'error', subject: `x</SCRIPT>${uniqueId()}`, message });
    const { token } = await signedInCaller(env.deps, 'admin');
    const html = await (await page('/', token)).text();
    const tail = html.slice(html.indexOf(BOOT_ELEMENT_ID));
    expect(tail.toLowerCase().split('</script>')).toHaveLength(2);
    expect(tail).not.toContain('<!--');
    expect(bootOf(html)?.dashboard?.activeAlerts.map((a) => a.message)).toContain(message);
  });
});

describe('[BOOT] the page template', () => {
  it('scriptJson parses back to the same value and holds no <, >, & or line separator', () => {
    const value = { s: '</script><!-- a & b > c \u2028 \u2029', n: [1, null, true] };
    const json = scriptJson(value);
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(json)).toEqual(value);
  });

  it('a page with no </body> gets its data appended; the anonymous page is the input unchanged', () => {
    const t = bootTemplate('<!doctype html><script src="/a.js"></script>');
    expect(t.anonymous).toBe('<!doctype html><script src="/a.js"></script>');
    const me = { id: '1', email: 'a@example.com', role: 'admin' as const, mustChangePassword: false };
    expect(t.head + t.tail({ me })).toBe(`<!doctype html><script src="/a.js"></script><script type="application/json" id="${BOOT_ELEMENT_ID}">${scriptJson({ me })}</script>`);
  });
});
