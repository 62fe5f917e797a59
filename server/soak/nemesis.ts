import type { Cluster } from './cluster';
import type { Fakes } from './fakes';
import { PROVIDERS } from './fakes';
import type { Rng } from './prng';

export const FAULT_KINDS = ['kill-server', 'kill-worker', 'restart-postgres', 'redis-outage', 'provider-partition', 'billing-timeout', 'webhook-delay'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
const PARTITIONS = ['timeout', 'reset', 'error500', 'slow_body'] as const;

/** One planned fault: what, on which target, how long it lasts before it heals. */
export type Fault = { kind: FaultKind; target: string; holdMs: number };
export type Step = { atMs: number; faults: Fault[] };

/**
 * The whole schedule, drawn from the seed before the run starts: a gap, then one fault (or two at
 * once, a quarter of the time), held for a few seconds, then healed.
 */
export function plan(r: Rng, totalMs: number, servers: number): Step[] {
  const steps: Step[] = [];
  for (let at = r.int(15_000, 25_000); at < totalMs - 20_000; at += r.int(25_000, 45_000)) {
    const count = r.chance(0.25) ? 2 : 1;
    const faults: Fault[] = [];
    while (faults.length < count) {
      const kind = r.pick(FAULT_KINDS);
      if (faults.some((f) => f.kind === kind)) continue;
      const target = kind === 'kill-server' ? String(r.int(0, servers - 1)) : kind === 'provider-partition' ? `${r.pick(PROVIDERS).name}:${r.pick(PARTITIONS)}` : '';
      faults.push({ kind, target, holdMs: r.int(2_000, 8_000) });
    }
    steps.push({ atMs: at, faults });
  }
  return steps;
}

/** Injects a fault and answers its healing. Process kills restart the process after `holdMs`. */
export async function inject(f: Fault, cluster: Cluster, fakes: Fakes): Promise<() => Promise<void>> {
  switch (f.kind) {
    case 'kill-server': {
      const i = Number(f.target);
      await cluster.killServer(i);
      return () => cluster.restartServer(i);
    }
    case 'kill-worker':
      await cluster.killWorker();
      return async () => cluster.restartWorker();
    case 'restart-postgres':
      cluster.pg.stop();
      return async () => void cluster.pg.start();
    case 'redis-outage':
      await cluster.redis.stop();
      return () => cluster.redis.start();
    case 'provider-partition': {
      const [name, behaviour] = f.target.split(':') as [string, (typeof PARTITIONS)[number]];
      const p = fakes.providers[name]!;
      Object.assign(p.state, { behaviour, failAfter: p.requests.length, failTimes: Infinity });
      return async () => void Object.assign(p.state, { behaviour: 'ok', failTimes: 0 });
    }
    case 'billing-timeout':
      // The provider records the purchase and never answers: Creditdesk must not buy it twice.
      fakes.billing.state.behaviour = 'record_then_hang';
      return async () => void (fakes.billing.state.behaviour = 'ok');
    case 'webhook-delay':
      fakes.receiver.state.hang = true;
      return async () => void (fakes.receiver.state.hang = false);
  }
}
