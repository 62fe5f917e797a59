import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useState, type FormEvent } from 'react';
import { enhancementTypes, type EnhancementType } from '../../../../shared/credits';
import { tryEnhancementInputSchema, type TryEnhancementResult } from '../../../../shared/providers';
import { formatUsd } from '../../components/Amount';
import { Field, validateForm } from '../../components/FormField';
import { errorMessage } from '../../lib/errors';
import { enhancementLabel } from '../../lib/format';
import { type FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';

/**
 * Runs the active providers in their fallback order on the built-in sample image (or an image
 * address), with the admin's own session: nothing to paste, and no user is charged. A paid provider
 * that serves draws its pool like any call.
 */
export function TryEnhancementPanel() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const [source, setSource] = useState<'sample' | 'url'>('sample');
  const [imageUrl, setImageUrl] = useState('');
  const [type, setType] = useState<EnhancementType>('lighting');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [ms, setMs] = useState(0);

  const run = useMutation(
    trpc.admin.providers.tryEnhancement.mutationOptions({
      onSettled: () => {
        // The call shows up in the providers' 24 h figures (and may have tripped a circuit).
        void queryClient.invalidateQueries(trpc.admin.providers.pathFilter());
        void queryClient.invalidateQueries(trpc.admin.pools.pathFilter());
      },
    }),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (run.isPending) return;
    const result = validateForm(tryEnhancementInputSchema, { enhancementType: type, imageUrl: source === 'url' ? imageUrl : undefined });
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    const started = performance.now();
    run.mutate(result.data, { onSettled: () => setMs(Math.round(performance.now() - started)) });
  };

  return (
    <section className="section" aria-labelledby="try-title" data-testid="try-enhancement">
      <div className="section-header">
        <div>
          <h2 id="try-title">Try an enhancement</h2>
          <p className="section-description">
            Runs the active providers in the order above on a sample image, with your session. No user is charged; a paid provider that serves draws one credit from its pool.
          </p>
        </div>
      </div>
      <form className="try-form" onSubmit={submit} noValidate>
        <Field id={`${id}-source`} label="Image">
          <select id={`${id}-source`} value={source} onChange={(e) => setSource(e.target.value as 'sample' | 'url')}>
            <option value="sample">Built-in sample</option>
            <option value="url">An image address…</option>
          </select>
        </Field>
        {source === 'url' && (
          <Field id={`${id}-url`} label="Image URL" error={errors.imageUrl} className="try-url">
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
        )}
        <Field id={`${id}-type`} label="Enhancement" error={errors.enhancementType}>
          <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value as EnhancementType)}>
            {enhancementTypes.map((t) => (
              <option key={t} value={t}>
                {enhancementLabel(t)}
              </option>
            ))}
          </select>
        </Field>
        <div className="form-inline-buttons">
          <button type="submit" className="button button-primary" disabled={run.isPending}>
            {run.isPending ? 'Enhancing…' : 'Enhance'}
          </button>
        </div>
      </form>
      {run.isError && (
        <div className="alert alert-error try-result" role="alert" data-testid="enhance-error">
          {errorMessage(run.error)}
        </div>
      )}
      {run.data && <TryOutcome result={run.data} ms={ms} />}
    </section>
  );
}

function TryOutcome({ result: r, ms }: { result: TryEnhancementResult; ms: number }) {
  const tried = r.attempts.filter((a) => a.outcome !== 'success');
  return (
    <div className="try-result" data-testid="enhance-result" data-status={r.status}>
      <div className="outcome">
        {r.status === 'enhanced' ? (
          <>
            <span className="badge badge-ok badge-label">Enhanced</span>
            <span className="outcome-title">
              by <span className="mono">{r.provider}</span> · {formatUsd(r.costUsd)}
            </span>
          </>
        ) : (
          <>
            <span className="badge badge-warn badge-label">No provider could serve</span>
            <span className="outcome-title">{r.attempts.length === 0 ? 'No provider is active. Turn one on above.' : 'Every active provider was tried.'}</span>
          </>
        )}
        <span className="muted">{ms} ms</span>
      </div>
      {tried.length > 0 && (
        <ul className="outcome-text" data-testid="enhance-attempts">
          {tried.map((a) => (
            <li key={a.provider}>
              <span className="mono">{a.provider}</span> {a.outcome === 'skipped' ? 'skipped' : 'failed'}
              {a.detail ? `: ${a.detail}` : ''}
            </li>
          ))}
        </ul>
      )}
      <div className="try-images">
        <Figure caption="Original" src={r.inputUrl} testId="enhance-original" />
        {r.outputUrl && <Figure caption={`Enhanced (${r.provider})`} src={r.outputUrl} testId="enhance-output" link />}
      </div>
    </div>
  );
}

function Figure({ caption, src, testId, link }: { caption: string; src: string; testId: string; link?: boolean }) {
  const img = <img src={src} alt={caption} data-testid={testId} />;
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
