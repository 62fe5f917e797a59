import type { z } from 'zod';
import type { poolStatusSchema, purchaseRequestStatusSchema } from '../../../../shared/pools';

export type PoolStatus = z.infer<typeof poolStatusSchema>;
export type RequestStatus = z.infer<typeof purchaseRequestStatusSchema>;

const poolBadge: Record<PoolStatus, string> = { active: 'badge-ok', suspended: 'badge-warn', depleted: 'badge-danger' };

export function PoolStatusBadge({ status }: { status: PoolStatus }) {
  return <span className={`badge ${poolBadge[status]}`}>{status}</span>;
}

export const requestStatusLabels: Record<RequestStatus, string> = {
  pending_manual_approval: 'Pending approval',
  approved: 'Approved',
  outcome_unknown: 'Outcome unknown',
  completed: 'Completed',
  rejected: 'Rejected',
  failed: 'Failed',
};

const requestBadge: Record<RequestStatus, string> = {
  pending_manual_approval: 'badge-warn',
  approved: 'badge-info',
  outcome_unknown: 'badge-warn',
  completed: 'badge-ok',
  rejected: 'badge-muted',
  failed: 'badge-danger',
};

export function RequestStatusBadge({ status }: { status: RequestStatus }) {
  return <span className={`badge badge-label ${requestBadge[status]}`}>{requestStatusLabels[status]}</span>;
}
