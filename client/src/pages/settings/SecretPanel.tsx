import { useEffect, useRef, useState } from 'react';

/** The new key's secret, shown once: the server stores only its hash. */
export function SecretPanel({ name, secret, note, onDone }: { name: string; secret: string; note?: string; onDone: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<'yes' | 'failed' | null>(null);

  useEffect(() => {
    ref.current?.focus();
  }, []);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      // Clipboard refused (permissions, insecure origin): select the text so Ctrl+C works.
      inputRef.current?.select();
      setCopied('failed');
    }
  };

  return (
    <div className="secret-panel" ref={ref} tabIndex={-1} role="region" aria-label="New API key secret" data-testid="secret-panel">
      <div className="secret-panel-title">
        <strong>
          API key “{name}” {note ? 'rotated' : 'created'}.
        </strong>{' '}
        Copy the key now: <strong>you will not see it again.</strong> Creditdesk keeps only a hash of it.
        {note && <div data-testid="rotation-note">{note}</div>}
      </div>
      <div className="secret-row">
        <input ref={inputRef} className="mono secret-input" readOnly value={secret} aria-label="API key secret" data-testid="api-key-secret" onFocus={(e) => e.currentTarget.select()} />
        <button type="button" className="button button-primary" onClick={() => void copy()}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="button" onClick={onDone}>
          Done
        </button>
      </div>
      {copied === 'failed' && <div className="field-hint">Copying was blocked by the browser: the key is selected, press Ctrl+C.</div>}
    </div>
  );
}
