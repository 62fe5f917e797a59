import { useMutation } from '@tanstack/react-query';
import { useEffect, useId, useState, type ChangeEvent, type FormEvent } from 'react';
import { tierImportApplyInputSchema, type TierImportPreview } from '../../../../shared/users';
import { formatCount } from '../../components/Amount';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, ReasonField, validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import { type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { TierBadge } from './TierBadge';

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;
/** Long previews show their first rows; the counts above them are complete. */
const SHOWN = 100;

/**
 * Tiers from a CSV of external id and tier: the server checks each row and says what would change
 * (by the tier-change rule: spent allowance is never restored), which users it does not know and
 * which rows are invalid; applying follows the preview.
 */
export function TierImportDialog({ open, onClose, onDone }: { open: boolean; onClose: () => void; onDone: () => void }) {
  const trpc = useTRPC();
  const toast = useToast();
  const id = useId();
  const [csv, setCsv] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [preview, setPreview] = useState<{ csv: string; result: TierImportPreview } | null>(null);
  const runPreview = useMutation(trpc.admin.users.importTiersPreview.mutationOptions({ onSuccess: (result, input) => setPreview({ csv: input.csv, result }) }));
  const apply = useMutation(
    trpc.admin.users.importTiers.mutationOptions({
      onSuccess: (r) => {
        toast.show(`Tier import: ${plural(r.changed, 'user')} changed${r.unknown + r.invalid ? `, ${plural(r.unknown + r.invalid, 'row')} skipped` : ''}.`);
        onDone();
        onClose();
      },
    }),
  );

  const { reset: resetRunPreview } = runPreview;
  const { reset: resetApply } = apply;
  useEffect(() => {
    if (open) {
      setCsv('');
      setReason('');
      setErrors({});
      setPreview(null);
      resetRunPreview();
      resetApply();
    }
  }, [open, resetRunPreview, resetApply]);

  // A preview belongs to the text it was made from: editing the CSV asks for a new one.
  const current = preview && preview.csv === csv ? preview.result : null;

  const readFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (file) setCsv(await file.text());
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (runPreview.isPending || apply.isPending) return;
    if (!current) {
      if (!csv.trim()) {
        setErrors({ csv: 'Paste the CSV or choose a file' });
        return;
      }
      setErrors({});
      runPreview.mutate({ csv });
      return;
    }
    const result = validateForm(tierImportApplyInputSchema, { csv, reason });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    apply.mutate(result.data);
  };

  const error = runPreview.isError ? runPreview.error : apply.isError ? apply.error : null;
  return (
    <Dialog open={open} title="Import tiers from CSV" onClose={onClose} width={640}>
      <form onSubmit={submit} noValidate>
        {error && (
          <div className="alert alert-error" role="alert">
            {errorMessage(error)}
          </div>
        )}
        <p className="dialog-lead">
          One row per user: external id, then tier (free, plus or pro). A header row naming the columns is optional. A tier change never gives back allowance already spent this month.
        </p>
        <Field id={`${id}-csv`} label="CSV" error={errors.csv} hint="e.g. user-42,pro — up to 5,000 rows">
          <textarea id={`${id}-csv`} data-autofocus rows={6} className="mono" value={csv} onChange={(e) => setCsv(e.target.value)} spellCheck={false} />
        </Field>
        <div className="field">
          <label htmlFor={`${id}-file`}>Or choose a file</label>
          <input id={`${id}-file`} type="file" accept=".csv,text/csv,text/plain" onChange={(e) => void readFile(e)} />
        </div>
        {current && <ImportPreview preview={current} />}
        {current && current.changes.length > 0 && <ReasonField id={`${id}-reason`} value={reason} onChange={setReason} error={errors.reason} placeholder="e.g. CRM sync, 1 June" />}
        {current && current.changes.length === 0 ? (
          <div className="form-actions">
            <button type="button" className="button" onClick={onClose}>
              Close
            </button>
          </div>
        ) : (
          <FormActions
            onClose={onClose}
            busy={runPreview.isPending || apply.isPending}
            label={current ? `Apply ${plural(current.changes.length, 'change')}` : 'Preview import'}
            busyLabel={apply.isPending ? 'Applying…' : 'Checking…'}
          />
        )}
      </form>
    </Dialog>
  );
}

function ImportPreview({ preview }: { preview: TierImportPreview }) {
  return (
    <div className="import-preview" data-testid="tier-import-preview">
      <p className="import-summary" role="status">
        {plural(preview.rows, 'row')}: <strong>{plural(preview.changes.length, 'change')}</strong>, {formatCount(preview.unchanged)} already on that tier,{' '}
        {plural(preview.unknown.length, 'unknown user')}, {plural(preview.invalid.length, 'invalid row')}.
      </p>
      {preview.changes.length > 0 && (
        <table className="data-table import-table" aria-label="Tier changes">
          <thead>
            <tr>
              <th>Line</th>
              <th>User</th>
              <th>Tier</th>
              <th className="num">Allowance left</th>
            </tr>
          </thead>
          <tbody>
            {preview.changes.slice(0, SHOWN).map((c) => (
              <tr key={c.line}>
                <td className="num">{c.line}</td>
                <td className="mono">{c.userId}</td>
                <td>
                  <TierBadge tier={c.fromTier} /> → <TierBadge tier={c.toTier} />
                </td>
                <td className="num">
                  {formatCount(c.allowanceBefore)} → <strong>{formatCount(c.allowanceAfter)}</strong>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {preview.unknown.length > 0 && (
        <div className="import-problems" aria-label="Unknown users">
          <h3>Unknown users (skipped)</h3>
          <ul>
            {preview.unknown.slice(0, SHOWN).map((u) => (
              <li key={u.line}>
                Line {u.line}: <span className="mono">{u.userId}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {preview.invalid.length > 0 && (
        <div className="import-problems" aria-label="Invalid rows">
          <h3>Invalid rows (skipped)</h3>
          <ul>
            {preview.invalid.slice(0, SHOWN).map((r) => (
              <li key={r.line}>
                Line {r.line}: <span className="mono">{r.text || '(empty)'}</span> — {r.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
