/** An admin signed in over the API: the session cookie, and tRPC queries sent with it. */
export async function adminLogin(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/trpc/auth.login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`auth.login answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('cd_session='));
  if (!cookie) throw new Error('auth.login set no cd_session cookie');
  return cookie.split(';')[0]!;
}

/** GET /trpc/<procedure>?input=… with the session cookie; returns result.data. */
export async function trpcQuery<T>(baseUrl: string, cookie: string, procedure: string, input?: unknown): Promise<T> {
  const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify(input))}`;
  const res = await fetch(`${baseUrl}/trpc/${procedure}${qs}`, { headers: { cookie } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${procedure} answered HTTP ${res.status}: ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { result: { data: T } }).result.data;
}
