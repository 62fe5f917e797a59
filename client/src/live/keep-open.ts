import { errorCode } from '../lib/errors';

export type Unsubscribable = { unsubscribe: () => void };
export type OpenHandlers = {
  /** The subscription ended with an error: it is closed and, unless the session was refused, opened again. */
  failed: (err: unknown) => void;
  /** The stream answered: the next failure waits the shortest time again. */
  opened: () => void;
};

/** Waits before re-opening a stream the browser gave up on: doubling from half a second, at most 8 s. */
export const reopenDelayMs = (failures: number) => Math.min(500 * 2 ** failures, 8_000);

/**
 * Keeps a tRPC subscription open. The browser's EventSource re-opens a dropped stream by itself,
 * but gives up on an answer that is not a stream (a 503 from a server shutting down, a proxy's error
 * page), and tRPC then ends the subscription with an error: it is opened again here, backing off.
 * A refused session (UNAUTHORIZED) is not retried. `onDown` hears every failure; the returned
 * function closes the subscription for good.
 */
export function keepOpen(open: (handlers: OpenHandlers) => Unsubscribable, onDown?: (refused: boolean) => void): () => void {
  let failures = 0;
  let closed = false;
  let reopenTimer: ReturnType<typeof setTimeout> | undefined;
  let current: Unsubscribable | null = null;
  const handlers: OpenHandlers = {
    opened: () => {
      failures = 0;
    },
    failed: (err) => {
      current?.unsubscribe();
      current = null;
      const refused = errorCode(err) === 'UNAUTHORIZED';
      onDown?.(refused);
      if (refused || closed || reopenTimer) return;
      reopenTimer = setTimeout(() => {
        reopenTimer = undefined;
        if (!closed) current = open(handlers);
      }, reopenDelayMs(failures++));
    },
  };
  current = open(handlers);
  return () => {
    closed = true;
    clearTimeout(reopenTimer);
    current?.unsubscribe();
    current = null;
  };
}
