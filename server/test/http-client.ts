/** A minimal tRPC-over-HTTP caller, the way a product app in any language calls Creditdesk. */
export function trpcHttp(baseUrl: string, bearer?: string) {
  const headers = (extra: Record<string, string> = {}) => ({
    ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    ...extra,
  });
  return {
    async mutation(path: string, input: unknown): Promise<{ status: number; body: any }> {
      const res = await fetch(`${baseUrl}/trpc/${path}`, {
        method: 'POST',
        headers: headers({ 'content-type': 'application/json' }),
        body: JSON.stringify(input),
      });
      return { status: res.status, body: await res.json() };
    },
    async query(path: string, input: unknown): Promise<{ status: number; body: any }> {
      const res = await fetch(`${baseUrl}/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, { headers: headers() });
      return { status: res.status, body: await res.json() };
    },
  };
}
