import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { cliActor } from '../auth/audit';
import { col, queryOne } from '../db/rows';
import { changeTier, grantCredits, refundTransaction } from '../ledger/admin-ops';
import { approveRequest, requestManualRefill } from '../pools/refills';
import { trpcHttp } from '../test/http-client';
import type { Rng } from './prng';
import { BILLED_POOL } from './fakes';

export const OP_KINDS = ['consume', 'replay', 'hold', 'enhance.run', 'enhance.submit', 'tier', 'grant', 'refund', 'refill'] as const;
export type OpKind = (typeof OP_KINDS)[number];
/** The mix: mostly what product apps do, a little of what admins do. */
const WEIGHTS: Record<OpKind, number> = { consume: 30, replay: 10, hold: 20, 'enhance.run': 14, 'enhance.submit': 10, tier: 4, grant: 5, refund: 4, refill: 3 };
const TIERS = ['free', 'plus', 'pro'] as const;
const TYPES = ['color', 'lighting', 'upscale'] as const;

export function pickKind(r: Rng): OpKind {
  let x = r.next() * Object.values(WEIGHTS).reduce((a, b) => a + b, 0);
  for (const k of OP_KINDS) if ((x -= WEIGHTS[k]) < 0) return k;
  return 'consume';
}

export type OpContext = { deps: AppDeps; urls: () => string[]; apiKey: string; users: string[]; imageUrl: string; seed: number };
type Sent = { path: string; input: unknown };
/** Inputs sent before, so a replay resends the very same request under the same key. */
const sent: Sent[] = [];
let counter = 0;

/**
 * One operation, its choices drawn from `r` (the seed's operation stream). Product-app calls go over
 * HTTP to a server chosen by the stream; admin actions run as the CLI would, on the soak's own pool.
 * Answers 'ok', or the failure as a short string (an error during a fault is expected, not a violation).
 */
export async function runOp(kind: OpKind, r: Rng, ctx: OpContext): Promise<string> {
  const urls = ctx.urls();
  const api = trpcHttp(urls[r.int(0, urls.length - 1)]!, ctx.apiKey);
  const userId = r.pick(ctx.users);
  const key = `soak-${ctx.seed}-${++counter}`;
  const call = async (path: string, input: unknown) => {
    if (path !== 'credits.release' && path !== 'credits.capture') sent.push({ path, input });
    if (sent.length > 200) sent.shift();
    const res = await api.mutation(path, input);
    return res.status === 200 ? res.body.result.data : Promise.reject(new Error(`${res.status} ${res.body?.error?.data?.reason ?? res.body?.error?.message ?? ''}`));
  };
  const db = ctx.deps.dbHandle.db;
  // A failure's outcome names the procedure and the reason, so an unexpected 500 can be chased.
  const outcomeOf = (path: string, res: { status: number; body: any }) =>
    res.status === 200 ? 'ok' : `${res.status} ${path} ${res.body?.error?.data?.reason ?? res.body?.error?.message ?? ''}`.trim();
  switch (kind) {
    case 'consume':
      return call('credits.consume', { userId, credits: 1, enhancementType: r.pick(TYPES), idempotencyKey: key }).then(() => 'ok');
    case 'replay': {
      if (!sent.length) return 'ok';
      const again = sent[r.int(0, sent.length - 1)]!;
      return api.mutation(again.path, again.input).then((res) => outcomeOf(again.path, res));
    }
    case 'hold': {
      const outcome = r.pick(['capture', 'release', 'expire'] as const);
      const hold = await call('credits.reserve', { userId, credits: r.int(1, 2), enhancementType: 'color', idempotencyKey: key, ttlSeconds: outcome === 'expire' ? 5 : 300 });
      if (outcome === 'expire') return 'ok';
      const settle = trpcHttp(urls[r.int(0, urls.length - 1)]!, ctx.apiKey);
      const input = outcome === 'capture' ? { reservationId: hold.reservationId, costUsd: '0.01' } : { reservationId: hold.reservationId, reason: 'soak' };
      return outcomeOf(`credits.${outcome}`, await settle.mutation(`credits.${outcome}`, input));
    }
    case 'enhance.run':
    case 'enhance.submit':
      return call(kind, { userId, inputImageUrl: ctx.imageUrl, enhancementType: r.pick(TYPES), idempotencyKey: key }).then(() => 'ok');
    case 'tier':
      return changeTier(db, cliActor, { userId, tier: r.pick(TIERS), reason: 'soak tier change' }).then(() => 'ok');
    case 'grant':
      return grantCredits(db, cliActor, { userId, credits: r.int(5, 50), reason: 'soak grant' }).then(() => 'ok');
    case 'refund': {
      const nth = r.int(0, 20);
      const tx = await queryOne(
        db,
        z.object({ id: col.id }),
        sql`select id::text from credit_transactions where transaction_type = 'consumption' and user_id = ${userId} order by id desc offset ${nth} limit 1`,
      );
      if (!tx) return 'ok';
      return refundTransaction(db, cliActor, { transactionId: tx.id, reason: 'soak refund' }).then(() => 'ok');
    }
    case 'refill': {
      const refillDeps = { secrets: ctx.deps.secrets, outbound: ctx.deps.outbound, billingTimeoutMs: 2_000 };
      const req = await requestManualRefill(db, refillDeps, cliActor, { provider: BILLED_POOL, amount: r.int(50, 300), reason: 'soak refill' });
      if (req.status === 'pending_manual_approval') await approveRequest(db, refillDeps, cliActor, { id: String(req.id), reason: 'soak approval' });
      return 'ok';
    }
  }
}
