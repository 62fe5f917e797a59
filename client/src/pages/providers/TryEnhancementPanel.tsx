import { useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { enhancementTypes, type EnhancementType } from '../../../../shared/credits';
import { enhanceInputSchema, enhanceResultSchema, type EnhanceResult } from '../../../../shared/enhance';
import { formatUsd } from '../../components/Amount';
import { Field, validateForm } from '../../components/FormField';
import { NETWORK_FAILURE, SERVER_FAILURE } from '../../lib/errors';
import { type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

type Outcome =
  | { kind: 'result'; result: EnhanceResult; inputUrl: string; ms: number }
  | { kind: 'error'; message: string; reason: string | null; status: number | null };

type TrpcErrorBody = { error?: { message?: unknown; data?: { code?: unknown; reason?: unknown; httpStatus?: unknown } } };

/** A person-readable refusal from a raw tRPC error body (the public API is called with fetch, not the tRPC client). */
function refusal(status: number, body: unknown): Outcome {
  const err = (body as TrpcErrorBody | null)?.error;
  const reason = typeof err?.data?.reason === 'string' ? err.data.reason : typeof err?.data?.code === 'string' ? err.data.code : null;
  const message = typeof err?.message === 'string' ? err.message.trim() : '';
  if (status >= 500 || !message || /^[[{]/.test(message) || message.length > 500) return { kind: 'error', message: SERVER_FAILURE, reason, status };
  return { kind: 'error', message, reason, status };
}

const newIdempotencyKey = () => `admin-try-${crypto.randomUUID()}`;

/**
 * Runs one enhancement through the public API exactly as a product app would: POST /trpc/enhance.run
 * with `Authorization: Bearer <key>` (a key with the enhance scope), not the admin session. It charges
 * the user one credit like any other call.
 */
export function TryEnhancementPanel() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const [imageUrl, setImageUrl] = useState('');
  const [type, setType] = useState<EnhancementType>('lighting');
  const [userId, setUserId] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const result = validateForm(enhanceInputSchema, {
      userId,
      inputImageUrl: imageUrl,
      enhancementType: type,
      idempotencyKey: newIdempotencyKey(),
    });
    const fieldErrors: FieldErrors = result.ok ? {} : { ...result.errors };
    if (apiKey.trim() === '') fieldErrors.apiKey = 'Paste an API key with the enhance scope';
    if (!result.ok || Object.keys(fieldErrors).length) {
      setErrors(fieldErrors);
      return;
    }
    setErrors({});
    setBusy(true);
    setOutcome(null);
    const started = performance.now();
    try {
      const res = await fetch('/trpc/enhance.run', {
        method: 'POST',
        // The public API: the key alone authenticates, the admin session cookie is not sent.
        credentials: 'omit',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey.trim()}` },
        body: JSON.stringify(result.data),
      });
      const body: unknown = await res.json().catch(() => null);
      if (!res.ok) {
        setOutcome(refusal(res.status, body));
        return;
      }
      const parsed = enhanceResultSchema.safeParse((body as { result?: { data?: unknown } } | null)?.result?.data);
      setOutcome(
        parsed.success
          ? { kind: 'result', result: parsed.data, inputUrl: result.data.inputImageUrl, ms: Math.round(performance.now() - started) }
          : { kind: 'error', message: SERVER_FAILURE, reason: null, status: res.status },
      );
    } catch {
      setOutcome({ kind: 'error', message: NETWORK_FAILURE, reason: null, status: null });
    } finally {
      setBusy(false);
      // The call shows up in the providers' 24 h figures (and may have tripped a circuit).
      void queryClient.invalidateQueries(trpc.admin.providers.pathFilter());
    }
  };

  return (
    <section className="section" aria-labelledby="try-title" data-testid="try-enhancement">
      <div className="section-header">
        <div>
          <h2 id="try-title">Try an enhancement</h2>
          <p className="section-description">
            Calls the public <code>enhance.run</code> as a product app would, with an API key that has the <code>enhance</code> scope. The user
            must exist and is charged one credit; providers are tried in the order above.
          </p>
        </div>
      </div>
      <form className="try-form" onSubmit={(e) => void submit(e)} noValidate>
        <Field id={`${id}-url`} label="Image URL" error={errors.inputImageUrl} className="try-url">
          <input
            id={`${id}-url`}
            type="url"
            autoComplete="off"
            spellCheck={false}
            placeholder="https://example.com/moodboard/photo.jpg"
            value={imageUrl}
            onChange={(e) => setImageUrl(e.target.value)}
          />
        </Field>
        <Field id={`${id}-type`} label="Enhancement" error={errors.enhancementType}>
          <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value as EnhancementType)}>
            {enhancementTypes.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        <Field id={`${id}-user`} label="User ID" error={errors.userId}>
          <input id={`${id}-user`} autoComplete="off" spellCheck={false} placeholder="e.g. user_123" value={userId} onChange={(e) => setUserId(e.target.value)} />
        </Field>
        <Field id={`${id}-key`} label="API key" error={errors.apiKey}>
          <input
            id={`${id}-key`}
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="key with the enhance scope"
            value={apiKey}
            onChange={(e) => setApiKey(e.target.value)}
          />
        </Field>
        <div className="form-inline-buttons">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Enhancing…' : 'Enhance'}
          </button>
        </div>
      </form>
      {outcome && <EnhanceOutcome outcome={outcome} />}
    </section>
  );
}

function EnhanceOutcome({ outcome }: { outcome: Outcome }) {
  if (outcome.kind === 'error') {
    return (
      <div className="alert alert-error try-result" role="alert" data-testid="enhance-error">
        {outcome.reason && <span className="mono try-reason">{outcome.reason}</span>}
        {outcome.message}
      </div>
    );
  }
  const r = outcome.result;
  if (r.status === 'enhanced') {
    return (
      <div className="try-result" data-testid="enhance-result" data-status="enhanced">
        <div className="outcome">
          <span className="badge badge-ok badge-label">Enhanced</span>
          <span className="outcome-title">
            by <span className="mono">{r.provider}</span> · {formatUsd(r.costUsd)} · {r.creditSource === 'user_credits' ? "from the user's credits" : 'from the platform pool'}
          </span>
          <span className="muted">{outcome.ms} ms</span>
        </div>
        <div className="try-images">
          <Figure caption="Original" src={outcome.inputUrl} testId="enhance-original" />
          <Figure caption={`Enhanced (${r.provider})`} src={r.outputUrl} testId="enhance-output" link />
        </div>
      </div>
    );
  }
  return (
    <div className="try-result" data-testid="enhance-result" data-status="degraded">
      <div className="outcome">
        <span className="badge badge-warn badge-label">Degraded</span>
        <span className="outcome-title mono">{r.type}</span>
        <span className="muted">{outcome.ms} ms</span>
      </div>
      <p className="outcome-text">
        {r.message}
        {r.suggestion && <> {r.suggestion}</>}
        {r.retryAfter !== undefined && <> Retry after {Math.round(r.retryAfter / 60)} min.</>}
      </p>
      <p className="outcome-text">
        <span className="muted">Why:</span> {r.degradationReason}
      </p>
      <div className="try-images">
        {r.cssFilter && (
          <Figure caption={`CSS filter: ${r.cssFilter}`} src={r.originalUrl} filter={r.cssFilter} testId="enhance-filtered" />
        )}
        <Figure caption={r.enhancedUrl === r.originalUrl ? 'Original (unchanged)' : 'Filter applied on the server'} src={r.enhancedUrl} testId="enhance-output" link />
      </div>
    </div>
  );
}

function Figure({ caption, src, filter, testId, link }: { caption: string; src: string; filter?: string; testId: string; link?: boolean }) {
  const img = <img src={src} alt={caption} style={filter ? { filter } : undefined} data-testid={testId} />;
  return (
    <figure className="try-figure">
      {link ? (
        <a href={src} target="_blank" rel="noreferrer noopener" title="Open the image">
          {img}
        </a>
      ) : (
        img
      )}
      <figcaption>{caption}</figcaption>
    </figure>
  );
}
