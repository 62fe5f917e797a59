import { creditSources, type CreditSource } from '../../../shared/credits';
import { transactionTypes } from '../../../shared/ledger';

export type TransactionType = (typeof transactionTypes)[number];

export const sourceLabels: Record<CreditSource, string> = { user_credits: 'User credits', platform_pool: 'Platform pool' };

/** The ledger's Type and Source filters, as the Ledger and Live pages' toolbars show them. */
export function LedgerTypeSourceFields({
  type,
  source,
  onType,
  onSource,
}: {
  type: TransactionType | '';
  source: CreditSource | '';
  onType: (v: TransactionType | '') => void;
  onSource: (v: CreditSource | '') => void;
}) {
  return (
    <>
      <label className="toolbar-field">
        <span>Type</span>
        <select value={type} onChange={(e) => onType(e.target.value as TransactionType | '')} aria-label="Type">
          <option value="">All types</option>
          {transactionTypes.map((t) => (
            <option key={t} value={t}>
              {t.replace('_', ' ')}
            </option>
          ))}
        </select>
      </label>
      <label className="toolbar-field">
        <span>Source</span>
        <select value={source} onChange={(e) => onSource(e.target.value as CreditSource | '')} aria-label="Source">
          <option value="">Any source</option>
          {creditSources.map((s) => (
            <option key={s} value={s}>
              {sourceLabels[s]}
            </option>
          ))}
        </select>
      </label>
    </>
  );
}
