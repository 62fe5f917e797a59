import { providerLatency } from '../ops/metrics';
import type { DbOrTx } from '../db/client';
import { callRecordStatement } from './enhancement-statements';
import { ProviderError } from './types';

export type CallRecord = {
  provider: string;
  requestId: string;
  reservationId: string | null;
  outcome: 'success' | 'failure' | 'skipped';
  latencyMs?: number | null;
  error?: unknown;
  reason?: string;
  providerRequestId?: string | null;
};

/** Every attempt and every skip is recorded, with the error in words an admin can act on. */
export async function recordCall(db: DbOrTx, call: CallRecord): Promise<void> {
  const err = call.error;
  // Skips are not calls; a call is timed whether or not its row below is written.
  if (call.outcome !== 'skipped' && call.latencyMs != null) providerLatency.observe({ provider: call.provider, outcome: call.outcome }, call.latencyMs / 1000);
  await db.execute(
    callRecordStatement({
      provider: call.provider,
      requestId: call.requestId,
      reservationId: call.reservationId,
      outcome: call.outcome,
      latencyMs: call.latencyMs ?? null,
      httpStatus: err instanceof ProviderError ? err.httpStatus : null,
      errorKind: err instanceof ProviderError ? err.kind : err ? 'internal' : call.outcome === 'skipped' ? 'skipped' : null,
      error: err instanceof Error ? err.message.slice(0, 1000) : (call.reason ?? null),
      providerRequestId: call.providerRequestId ?? null,
    }),
  );
}
