/**
 * The From/To day pickers of a filter toolbar (audit log, ledger explorer, alert history): each bounds
 * the other, and both show the range's error state.
 */
export function DateRangeFields(props: {
  from: string;
  to: string;
  onFrom: (day: string) => void;
  onTo: (day: string) => void;
  invalid: boolean;
  /** Prefix for the accessible names ("History" gives "History from"), where a page has two ranges. */
  labelPrefix?: string;
}) {
  const name = (which: 'From' | 'To') => (props.labelPrefix ? `${props.labelPrefix} ${which.toLowerCase()}` : which);
  return (
    <>
      <label className="toolbar-field">
        <span>From</span>
        <input type="date" value={props.from} max={props.to || undefined} aria-label={name('From')} aria-invalid={props.invalid} onChange={(e) => props.onFrom(e.target.value)} />
      </label>
      <label className="toolbar-field">
        <span>To</span>
        <input type="date" value={props.to} min={props.from || undefined} aria-label={name('To')} aria-invalid={props.invalid} onChange={(e) => props.onTo(e.target.value)} />
      </label>
    </>
  );
}
