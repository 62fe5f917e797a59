import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { DbHandle } from '../db/client';
import { ChangeBus } from './change-bus';
import { DEFAULT_TIMING, LiveHub, type HubTiming } from './live-hub';

/** The process's real-time pair: the bus that says "something committed", the hub that reads what. */
export type Realtime = { bus: ChangeBus; hub: LiveHub; close: () => Promise<void> };

export function createRealtime(opts: { dbHandle: DbHandle; redis: Redis | null; redisPrefix: string; log: Logger; timing?: HubTiming }): Realtime {
  const bus = new ChangeBus({ ...opts, origin: `${process.pid}-${randomBytes(3).toString('hex')}` });
  const hub = new LiveHub(opts.dbHandle.db, bus, opts.log, opts.timing ?? DEFAULT_TIMING);
  return {
    bus,
    hub,
    close: async () => {
      await hub.close();
      await bus.close();
    },
  };
}
