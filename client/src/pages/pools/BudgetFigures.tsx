import { useQuery } from '@tanstack/react-query';
import type { BudgetSummaryView } from '../../../../shared/pools';
import { formatUsd, parseMicros } from '../../components/Amount';
import { useTRPC } from '../../trpc';

/**
 * The month's budget, the refills counted against it and the providers' cost, from the one server
 * summary (admin.platformSettings.budget): Dashboard, Pools and Settings show this same block.
 */
export function BudgetFigures() {
  const trpc = useTRPC();
  const budget = useQuery(trpc.admin.platformSettings.budget.queryOptions(undefined, { refetchInterval: 60_000 }));
  if (!budget.data) return <div className="budget-summary" data-testid="budget-figures" aria-busy="true" />;
  return <BudgetFiguresView b={budget.data} />;
}

function BudgetFiguresView({ b }: { b: BudgetSummaryView }) {
  const budget = parseMicros(b.budgetUsd) ?? 0n;
  const refills = parseMicros(b.refillsUsd) ?? 0n;
  const left = parseMicros(b.leftUsd) ?? 0n;
  // Display only: a bar width, not money arithmetic.
  const pct = b.configured && budget > 0n ? Math.min(100, Number((refills * 1000n) / budget) / 10) : b.configured && refills > 0n ? 100 : 0;
  return (
    <div className="budget-summary" data-testid="budget-figures">
      <div className="stat">
        <div className="stat-label">Budget this month</div>
        <div className="stat-value" data-testid="budget-usd">
          {b.configured ? formatUsd(b.budgetUsd) : 'No cap'}
        </div>
        <div className="stat-sub">{b.configured ? `${formatUsd(b.monthlyRevenueUsd)} revenue × ${b.creditBudgetSharePercent}%` : 'Set a monthly revenue in Settings to cap refills'}</div>
      </div>
      <div className="stat">
        <div className="stat-label">Refills this month</div>
        <div className="stat-value" data-testid="budget-refills">
          {formatUsd(b.refillsUsd)}
        </div>
        <div className="stat-sub">approved and completed, counted against the budget</div>
      </div>
      <div className="stat">
        <div className="stat-label">{b.overBudget ? 'Over budget by' : 'Left'}</div>
        <div className={b.overBudget ? 'stat-value delta-minus' : 'stat-value'} data-testid="budget-left">
          {b.configured ? formatUsd(left < 0n ? b.leftUsd.slice(1) : b.leftUsd) : '—'}
        </div>
        {b.configured && (
          <div className="meter" role="meter" aria-label="Budget spent on refills" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
            <div className={pct >= 100 ? 'meter-fill meter-over' : pct >= 80 ? 'meter-fill meter-warn' : 'meter-fill'} style={{ width: `${pct}%` }} />
          </div>
        )}
      </div>
      <div className="stat">
        <div className="stat-label">Provider cost this month</div>
        <div className="stat-value" data-testid="budget-provider-cost">
          {formatUsd(b.providerCostMonthToDateUsd)}
        </div>
        <div className="stat-sub" data-testid="budget-provider-projected">
          projected {formatUsd(b.providerCostProjectedUsd)} by the month's end
        </div>
      </div>
    </div>
  );
}
