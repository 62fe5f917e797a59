import type { Tier } from '../../../../shared/enums';

export function TierBadge({ tier }: { tier: Tier }) {
  return <span className={`badge badge-tier-${tier}`}>{tier}</span>;
}

export const tierLabel = (tier: Tier) => tier[0]!.toUpperCase() + tier.slice(1);
