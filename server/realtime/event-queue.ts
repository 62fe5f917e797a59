export const TIMEOUT = Symbol('timeout');
export const ABORTED = Symbol('aborted');
export const OVERFLOW = Symbol('overflow');

/**
 * What the hub pushed to one subscriber and its stream has not sent yet. Bounded: a consumer that
 * falls `max` behind gets OVERFLOW once (and the queue emptied), so a slow browser costs the server
 * a fixed amount of memory; its stream then re-reads what it missed from the database.
 */
export class EventQueue<T> {
  private items: T[] = [];
  private overflowed = false;
  private waiter: (() => void) | null = null;

  constructor(private readonly max: number) {}

  push(item: T): void {
    if (this.overflowed) return;
    if (this.items.length >= this.max) {
      this.items = [];
      this.overflowed = true;
    } else {
      this.items.push(item);
    }
    this.waiter?.();
  }

  /** The next item, OVERFLOW, TIMEOUT after `timeoutMs`, or ABORTED once `signal` fires. */
  async next(timeoutMs: number, signal?: AbortSignal): Promise<T | typeof TIMEOUT | typeof ABORTED | typeof OVERFLOW> {
    for (;;) {
      if (signal?.aborted) return ABORTED;
      if (this.overflowed) {
        this.overflowed = false;
        return OVERFLOW;
      }
      if (this.items.length) return this.items.shift()!;
      const outcome = await new Promise<'item' | 'timeout'>((resolve) => {
        const done = (v: 'item' | 'timeout') => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.waiter = null;
          resolve(v);
        };
        const onAbort = () => done('item');
        const timer = setTimeout(() => done('timeout'), timeoutMs);
        signal?.addEventListener('abort', onAbort);
        this.waiter = () => done('item');
      });
      if (outcome === 'timeout') return TIMEOUT;
    }
  }
}
