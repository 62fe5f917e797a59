import { rmSync } from 'node:fs';
import pino from 'pino';
import { loadConfig } from '../config';
import { closeDeps, createDeps } from '../deps';
import { upsertUser } from '../ledger/users';
import { grantCredits } from '../ledger/admin-ops';
import { cliActor } from '../auth/audit';
import { waitFor } from '../test/wait';
import { runChecks, undeliveredWebhooks, type Violation } from './checks';
import { startCluster } from './cluster';
import { configure, startFakes } from './fakes';
import { Cron } from 'croner';
import { coreJobs } from '../jobs/definitions';
import { inject, plan, type Fault } from './nemesis';
import { pickKind, runOp } from './ops';
import { stream } from './prng';
import { summarize, type OpRecord, type Window } from './stats';

export type SoakOptions = { minutes: number; seed: number; ports: [number, number]; opsPerSecond?: number; log?: (line: string) => void };
export type FaultEvent = { atMs: number; faults: Fault[]; healedMs?: number; checks?: 'passed' | 'failed' };
/** `logs`: the processes' error logs, kept when a check failed or a client saw a 5xx (else removed). */
export type SoakResult = {
  seed: number;
  minutes: number;
  history: FaultEvent[];
  checksPassed: number;
  violations: Violation[];
  stats: ReturnType<typeof summarize>;
  logs: string | null;
  /** Starts the supervisor had to try again (a process that came up while a service was down). */
  restarts: string[];
  /** The harness itself failed (a process that never came back): not a violated invariant, but the run stopped. */
  error: string | null;
};

const withTimeout = <T>(p: Promise<T>, ms: number, what: string) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} timed out`)), ms).unref())]);

/**
 * How long past its expiry a hold may still be pending once the load has stopped: a hold that expires
 * just after a run of the expiry job waits one period of its schedule for the next, plus a few seconds
 * for the run itself. With less, the end check raced the job's tick (seed 20).
 */
const QUIET_HOLD_GRACE_SECONDS = schedulePeriodSeconds('expire-reservations') + 5;

function schedulePeriodSeconds(job: string): number {
  const schedule = coreJobs.find((j) => j.name === job)?.schedule;
  if (!schedule) throw new Error(`${job} has no schedule`);
  const [a, b] = new Cron(schedule, { paused: true }).nextRuns(2);
  return (b!.getTime() - a!.getTime()) / 1000;
}

/** One soak: the cluster, the fakes, a steady load, the seed's faults, and the checks after each heal and at the end. */
export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const totalMs = o.minutes * 60_000;
  const fakes = await startFakes();
  const cluster = await startCluster({}, o.ports);
  const deps = await createDeps(loadConfig({ ...cluster.env, DATABASE_POOL_MAX: '4' }), pino({ level: 'silent' }));
  const db = deps.dbHandle.db;
  const history: FaultEvent[] = [];
  const ops: OpRecord[] = [];
  const windows: Window[] = [];
  let violations: Violation[] = [];
  let checksPassed = 0;
  let loadEndMs = 0;
  let error: string | null = null;
  let ticker: NodeJS.Timeout | undefined;
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  // The checks run on the soak's own connections, which a PostgreSQL restart just cut: a check that
  // cannot run is run again (a violation is an answer, never an error, so nothing is retried away).
  const runChecksRetrying = async (graceSeconds: number) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        return await withTimeout(runChecks(db, fakes, { holdGraceSeconds: graceSeconds }), 120_000, 'the checks');
      } catch (e) {
        if (Date.now() > deadline) throw e;
        const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : String(e).slice(0, 120);
        log(`[${(now() / 1000).toFixed(0)}s] the checks could not run (${cause}): again in 2 s`);
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
  };
  const check = async (graceSeconds: number, event?: FaultEvent) => {
    const found = await runChecksRetrying(graceSeconds);
    if (event) event.checks = found.length ? 'failed' : 'passed';
    if (found.length) violations = found;
    else checksPassed++;
    return found.length === 0;
  };
  try {
    const { apiKey } = await configure(deps, fakes);
    const setup = stream(o.seed, 'setup');
    const users: string[] = [];
    for (let i = 0; i < 30; i++) {
      const userId = `soak-${o.seed}-user-${i}`;
      await upsertUser(db, { userId, tier: setup.pick(['free', 'plus', 'pro'] as const), email: `${userId}@example.com` });
      await grantCredits(db, cliActor, { userId, credits: 300, reason: 'soak start' });
      users.push(userId);
    }
    const ctx = { deps, urls: cluster.urls, apiKey, users, imageUrl: fakes.images.inputUrl, seed: o.seed };
    const schedule = plan(stream(o.seed, 'nemesis'), totalMs, 2);
    log(`soak seed=${o.seed} minutes=${o.minutes} faults planned=${schedule.length}`);

    // The load: one operation every 1/rate seconds, each drawing its choices from its own stream.
    let n = 0;
    let inFlight = 0;
    const pending = new Set<Promise<void>>();
    const rate = o.opsPerSecond ?? 5;
    ticker = setInterval(() => {
      if (inFlight >= 25) return; // the system is slow (a fault): do not pile up requests
      const r = stream(o.seed, `op-${n++}`);
      const kind = pickKind(r);
      const startMs = now();
      inFlight++;
      const p = withTimeout(runOp(kind, r, ctx), 60_000, kind)
        .catch((e: Error) => e.message.slice(0, 90))
        .then((outcome) => void ops.push({ startMs, ms: now() - startMs, kind, outcome }))
        .finally(() => (inFlight--, pending.delete(p)));
      pending.add(p);
    }, 1000 / rate);

    for (const step of schedule) {
      await waitFor(() => now() >= step.atMs || violations.length > 0, { timeoutMs: totalMs, intervalMs: 200 });
      const event: FaultEvent = { atMs: now(), faults: step.faults };
      history.push(event);
      log(`[${(event.atMs / 1000).toFixed(0)}s] inject ${step.faults.map((f) => `${f.kind}${f.target ? `(${f.target})` : ''} ${f.holdMs}ms`).join(' + ')}`);
      const heals = await Promise.all(step.faults.map((f) => inject(f, cluster, fakes)));
      const holdUntil = now() + Math.max(...step.faults.map((f) => f.holdMs));
      await waitFor(() => now() >= holdUntil, { timeoutMs: 60_000, intervalMs: 100 });
      // Heals run together, as they would in an incident: a server restarting while PostgreSQL is
      // still coming back retries until it can start.
      await Promise.all(heals.map((heal) => heal()));
      event.healedMs = now();
      windows.push({ fromMs: event.atMs, toMs: event.healedMs });
      if (!(await check(180, event))) break;
      log(`[${(now() / 1000).toFixed(0)}s] healed, checks passed`);
    }
    if (!violations.length) await waitFor(() => now() >= totalMs, { timeoutMs: totalMs + 60_000, intervalMs: 200 });
    clearInterval(ticker);
    await Promise.all(pending);
    loadEndMs = now();

    if (!violations.length) {
      // Quiet now: the worker expires every hold past its expiry and the dispatcher delivers every event.
      await waitFor(async () => (await runChecks(db, fakes, { holdGraceSeconds: QUIET_HOLD_GRACE_SECONDS })).every((v) => v.check !== 'overdue-holds'), {
        timeoutMs: 240_000,
        intervalMs: 2_000,
      }).catch(() => null);
      const undelivered = await waitFor(async () => ((await undeliveredWebhooks(db, fakes)).length === 0 ? [] : null), { timeoutMs: 240_000, intervalMs: 2_000 }).catch(async () =>
        undeliveredWebhooks(db, fakes),
      );
      if (undelivered.length) violations = [{ check: 'webhook-delivered', rows: undelivered.slice(0, 20) }];
      else await check(QUIET_HOLD_GRACE_SECONDS);
    }
  } catch (e) {
    error = e instanceof Error ? (e.stack ?? e.message) : String(e);
  } finally {
    clearInterval(ticker);
    await closeDeps(deps).catch(() => null);
    await cluster.close().catch(() => null);
    await fakes.close().catch(() => null);
  }
  const serverErrors = ops.some((op) => /^5\d\d /.test(op.outcome));
  const keepLogs = violations.length > 0 || serverErrors || error !== null;
  if (!keepLogs) rmSync(cluster.logDir, { recursive: true, force: true });
  return {
    seed: o.seed,
    minutes: o.minutes,
    history,
    checksPassed,
    violations,
    stats: summarize(ops, windows, loadEndMs || now()),
    logs: keepLogs ? cluster.logDir : null,
    restarts: cluster.restarts(),
    error,
  };
}
