/**
 * A minimal reader of tRPC's server-sent events (what a browser's EventSource does for
 * httpSubscriptionLink): GET /trpc/<path>?input=…, then `id:` / `data:` / `event:` lines.
 */
export type SseStream<T> = {
  events: { id: string | null; data: T }[];
  status: () => number | null;
  /** Set once the stream ends: the server returned, sent an error, or the connection closed. */
  ended: () => { kind: 'return' | 'error' | 'closed'; error?: any } | null;
  connected: Promise<void>;
  close: () => void;
};

export function openStream<T = any>(baseUrl: string, path: string, input: unknown, opts: { cookie?: string; lastEventId?: string } = {}): SseStream<T> {
  const ac = new AbortController();
  const events: { id: string | null; data: T }[] = [];
  let status: number | null = null;
  let ended: ReturnType<SseStream<T>['ended']> = null;
  let markConnected!: () => void;
  let failConnected!: (e: unknown) => void;
  const connected = new Promise<void>((resolve, reject) => {
    markConnected = resolve;
    failConnected = reject;
  });
  void (async () => {
    try {
      const qs = `?input=${encodeURIComponent(JSON.stringify(input))}`;
      const res = await fetch(`${baseUrl}/trpc/${path}${qs}`, {
        headers: { accept: 'text/event-stream', ...(opts.cookie ? { cookie: opts.cookie } : {}), ...(opts.lastEventId ? { 'last-event-id': opts.lastEventId } : {}) },
        signal: ac.signal,
      });
      status = res.status;
      if (!res.ok || !res.body) {
        ended = { kind: 'error', error: await res.text() };
        markConnected();
        return;
      }
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let event = 'message';
          let data = '';
          let id: string | null = null;
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
            else if (line.startsWith('id: ')) id = line.slice(4);
          }
          if (event === 'connected') markConnected();
          else if (event === 'return') ended = { kind: 'return' };
          else if (event === 'serialized-error') ended = { kind: 'error', error: JSON.parse(data) };
          else if (event === 'message' && data) events.push({ id, data: JSON.parse(data) as T });
        }
      }
      ended ??= { kind: 'closed' };
    } catch (err) {
      ended ??= { kind: 'closed', error: err };
      failConnected(err);
    }
  })();
  return { events, status: () => status, ended: () => ended, connected, close: () => ac.abort() };
}
