import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { loginInputSchema } from '../../../shared/auth';
import { errorDetails, errorMessage, errorReason } from '../lib/errors';
import { validate, type FieldErrors } from '../lib/forms';
import { useTRPC } from '../trpc';

export function LoginPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  /** Set once the password was right and the account has two-factor sign-in: the form asks for the code. */
  const [askCode, setAskCode] = useState(false);
  const [code, setCode] = useState('');
  const [fieldErrors, setFieldErrors] = useState<FieldErrors>({});
  /** When a throttled sign-in may be tried again (ms since epoch). */
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const now = useNow(retryAt !== null);

  useEffect(() => {
    document.title = 'Sign in · Creditdesk';
  }, []);

  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: (me) => {
        setPassword('');
        setCode('');
        queryClient.setQueryData(trpc.auth.me.queryKey(), me);
      },
      onError: (err) => {
        if (errorReason(err) === 'SECOND_FACTOR_REQUIRED') {
          setAskCode(true);
          setCode('');
        }
        const seconds = errorDetails(err)?.retryAfterSeconds;
        if (errorReason(err) === 'TOO_MANY_REQUESTS' && typeof seconds === 'number') {
          setRetryAt(Date.now() + seconds * 1000);
        }
      },
    }),
  );

  const waitSeconds = retryAt === null ? 0 : Math.max(0, Math.ceil((retryAt - now) / 1000));
  const { reset: resetLogin } = login;
  useEffect(() => {
    if (retryAt !== null && waitSeconds === 0) {
      setRetryAt(null);
      resetLogin();
    }
  }, [retryAt, waitSeconds, resetLogin]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (login.isPending || waitSeconds > 0) return;
    const result = validate(loginInputSchema, askCode ? { email, password, code } : { email, password });
    if (!result.ok) {
      setFieldErrors(result.errors);
      return;
    }
    setFieldErrors({});
    login.mutate(result.data);
  };

  let error: string | null = null;
  if (waitSeconds > 0) {
    error = `Too many failed sign-in attempts. Try again in ${formatWait(waitSeconds)}.`;
  } else if (login.isError && !(errorReason(login.error) === 'SECOND_FACTOR_REQUIRED' && !login.variables?.code)) {
    // The first SECOND_FACTOR_REQUIRED only moves the form to its code step; a wrong code is an error.
    error = errorMessage(login.error);
  }

  return (
    <div className="login-screen">
      <form className="login-card" onSubmit={submit} noValidate aria-labelledby="login-title">
        <div className="login-brand">
          <span className="brand-mark" aria-hidden>
            C
          </span>
          <div>
            <h1 id="login-title">Creditdesk</h1>
            <p className="muted">Sign in to the back office</p>
          </div>
        </div>

        {error && (
          <div className="alert alert-error" role="alert" data-testid="login-error">
            {error}
          </div>
        )}

        {askCode ? (
          <div className="field">
            <label htmlFor="login-code">Two-factor code</label>
            <input
              id="login-code"
              inputMode="numeric"
              autoComplete="one-time-code"
              autoFocus
              value={code}
              onChange={(e) => setCode(e.target.value)}
              aria-invalid={!!fieldErrors.code}
              aria-describedby="login-code-hint"
            />
            <div className={fieldErrors.code ? 'field-error' : 'field-hint'} id="login-code-hint">
              {fieldErrors.code ?? 'The 6-digit code from your authenticator app, or one of your recovery codes.'}
            </div>
            <button
              type="button"
              className="button button-small login-switch"
              onClick={() => {
                setAskCode(false);
                setPassword('');
                login.reset();
              }}
            >
              Use another account
            </button>
          </div>
        ) : (
          <>
            <div className="field">
              <label htmlFor="login-email">Email</label>
              <input
                id="login-email"
                type="email"
                autoComplete="username"
                autoFocus
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                aria-invalid={!!fieldErrors.email}
                aria-describedby={fieldErrors.email ? 'login-email-error' : undefined}
              />
              {fieldErrors.email && (
                <div className="field-error" id="login-email-error">
                  {fieldErrors.email}
                </div>
              )}
            </div>
            <div className="field">
              <label htmlFor="login-password">Password</label>
              <input
                id="login-password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                aria-invalid={!!fieldErrors.password}
                aria-describedby={fieldErrors.password ? 'login-password-error' : undefined}
              />
              {fieldErrors.password && (
                <div className="field-error" id="login-password-error">
                  {fieldErrors.password}
                </div>
              )}
            </div>
          </>
        )}
        <button type="submit" className="button button-primary button-block" disabled={login.isPending || waitSeconds > 0}>
          {login.isPending ? 'Signing in…' : askCode ? 'Verify' : 'Sign in'}
        </button>
      </form>
    </div>
  );
}

/** The current time, ticking each second while `active`. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const id = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(id);
  }, [active]);
  return now;
}

/** `45 seconds`, `1 second`, `15 minutes` (rounded up past two minutes, where seconds stop mattering). */
function formatWait(seconds: number): string {
  if (seconds >= 120) return `${Math.ceil(seconds / 60)} minutes`;
  return `${seconds} second${seconds === 1 ? '' : 's'}`;
}
