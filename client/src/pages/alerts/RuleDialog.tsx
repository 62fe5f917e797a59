import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import {
  alertChannelNames,
  alertRuleInputSchema,
  DEFAULT_REPEAT_INTERVAL_SECONDS,
  knownAlertTypes,
  updateAlertRuleInputSchema,
  type AlertChannelName,
  type AlertRuleView,
} from '../../../../shared/alerts';
import { Dialog } from '../../components/Dialog';
import { Field, FormActions, validateForm } from '../../components/FormField';
import { useToast } from '../../components/Toasts';
import { errorMessage } from '../../lib/errors';
import type { FieldErrors } from '../../lib/forms';
import { useTRPC } from '../../trpc';
import { channelLabels } from './badges';

/** The types check-credit-thresholds evaluates (server/alerts/credit-thresholds.ts); others only route. */
export const checkedTypes: string[] = ['pool_low', 'pool_usage_high', 'users_out_of_credits'];

/** settingsOwned: the threshold lives on the Settings page (one source), so the rule shows it read-only. */
const meanings: Record<string, { unit: string; fallback: string; hint: string; settingsOwned?: true }> = {
  pool_low: { unit: 'credits', fallback: "each pool's refill threshold", hint: 'Alerts when a pool has this many credits or fewer.' },
  pool_usage_high: { unit: '%', fallback: '90%', hint: 'Alerts when a pool has used more than this share of the credits purchased.' },
  users_out_of_credits: {
    unit: 'users',
    fallback: 'the Settings threshold',
    hint: 'Alerts, per paying tier (plus, pro), when more than this many of its users have no credits left. Free users are never counted. The threshold is set on the Settings page.',
    settingsOwned: true,
  },
};

export const thresholdMeaning = (type: string) => meanings[type] ?? null;

type Form = { alertType: string; thresholdValue: string; channels: AlertChannelName[]; isActive: boolean; repeatMinutes: string };
const blank: Form = { alertType: '', thresholdValue: '', channels: [], isActive: true, repeatMinutes: String(DEFAULT_REPEAT_INTERVAL_SECONDS / 60) };

/** Create a rule (rule = null) or edit one; validated with the shared rule schema. */
export function RuleDialog({ open, rule, onClose }: { open: boolean; rule: AlertRuleView | null; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const id = useId();
  const editing = rule !== null;
  const [form, setForm] = useState<Form>(blank);
  const [errors, setErrors] = useState<FieldErrors>({});

  const onSaved = (r: AlertRuleView) => {
    toast.show(editing ? `Rule ${r.alertType} saved.` : `Rule ${r.alertType} created${r.isActive ? '' : ' (inactive)'}.`);
    void queryClient.invalidateQueries(trpc.admin.alerts.rules.pathFilter());
    onClose();
  };
  const create = useMutation(trpc.admin.alerts.rules.create.mutationOptions({ onSuccess: onSaved }));
  const update = useMutation(trpc.admin.alerts.rules.update.mutationOptions({ onSuccess: onSaved }));
  const save = editing ? update : create;

  const { reset: resetCreate } = create;
  const { reset: resetUpdate } = update;
  useEffect(() => {
    if (open) {
      setForm(
        rule
          ? {
              alertType: rule.alertType,
              thresholdValue: rule.thresholdValue === null ? '' : rule.thresholdValue.replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, ''),
              channels: rule.notificationChannels,
              isActive: rule.isActive,
              repeatMinutes: String(rule.repeatIntervalSeconds / 60),
            }
          : blank,
      );
      setErrors({});
      resetCreate();
      resetUpdate();
    }
  }, [open, rule, resetCreate, resetUpdate]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (save.isPending) return;
    const values = {
      alertType: form.alertType,
      thresholdValue: form.thresholdValue.trim() === '' || thresholdMeaning(form.alertType.trim())?.settingsOwned ? null : form.thresholdValue,
      // In the order the channels are listed, whatever order they were ticked in.
      notificationChannels: alertChannelNames.filter((c) => form.channels.includes(c)),
      isActive: form.isActive,
      // Not a whole number of minutes: NaN, which the schema refuses with its message.
      repeatIntervalSeconds: /^\d+$/.test(form.repeatMinutes.trim()) ? Number(form.repeatMinutes.trim()) * 60 : Number.NaN,
    };
    if (editing) {
      const result = validateForm(updateAlertRuleInputSchema, { ...values, id: rule.id });
      setErrors(result.ok ? {} : result.errors);
      if (result.ok) update.mutate(result.data);
    } else {
      const result = validateForm(alertRuleInputSchema, values);
      setErrors(result.ok ? {} : result.errors);
      if (result.ok) create.mutate(result.data);
    }
  };

  const meaning = thresholdMeaning(form.alertType.trim());

  return (
    <Dialog open={open} title={editing ? `Edit rule ${rule.alertType}` : 'Add alert rule'} onClose={onClose} width={500}>
      <form onSubmit={submit} noValidate>
        {save.isError && (
          <div className="alert alert-error" role="alert">
            {errorMessage(save.error)}
          </div>
        )}
        <div className="form-grid">
          <Field
            id={`${id}-type`}
            label="Alert type"
            error={errors.alertType}
            hint={checkedTypes.includes(form.alertType.trim()) ? 'Checked every 15 minutes against the threshold' : 'Lower-case letters, digits and _'}
          >
            <input
              id={`${id}-type`}
              list={`${id}-types`}
              data-autofocus
              autoComplete="off"
              spellCheck={false}
              placeholder="e.g. pool_low"
              value={form.alertType}
              onChange={(e) => setForm((f) => ({ ...f, alertType: e.target.value }))}
            />
          </Field>
          <datalist id={`${id}-types`}>
            {knownAlertTypes.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
          {meaning?.settingsOwned ? (
            <SettingsThreshold id={`${id}-threshold`} />
          ) : (
            <Field
              id={`${id}-threshold`}
              label={meaning ? `Threshold (${meaning.unit})` : 'Threshold'}
              error={errors.thresholdValue}
              hint={meaning ? `Empty: ${meaning.fallback}` : 'Only the checked types use a threshold'}
            >
              <input
                id={`${id}-threshold`}
                inputMode="decimal"
                autoComplete="off"
                placeholder={meaning ? meaning.fallback : '—'}
                value={form.thresholdValue}
                onChange={(e) => setForm((f) => ({ ...f, thresholdValue: e.target.value }))}
              />
            </Field>
          )}
        </div>
        {meaning && <p className="alerts-rule-hint">{meaning.hint}</p>}
        <Field id={`${id}-repeat`} label="Remind every (minutes)" error={errors.repeatIntervalSeconds} hint="An open alert of this type is sent again after this long; repeats in between only count">
          <input id={`${id}-repeat`} inputMode="numeric" autoComplete="off" value={form.repeatMinutes} onChange={(e) => setForm((f) => ({ ...f, repeatMinutes: e.target.value }))} />
        </Field>
        <fieldset className="field alerts-channel-checks" aria-describedby={`${id}-channels-hint`}>
          <legend>Extra channels</legend>
          <div className="alerts-check-row">
            {alertChannelNames.map((c) => (
              <label key={c} className="checkbox-inline">
                <input
                  type="checkbox"
                  checked={form.channels.includes(c)}
                  onChange={(e) => setForm((f) => ({ ...f, channels: e.target.checked ? [...f.channels, c] : f.channels.filter((x) => x !== c) }))}
                />
                {channelLabels[c]}
              </label>
            ))}
          </div>
          <div className={errors.notificationChannels ? 'field-error' : 'field-hint'} id={`${id}-channels-hint`}>
            {errors.notificationChannels ?? 'On top of the level’s channels (in-app always; Slack from warning; email from error). Disabled channels are skipped.'}
          </div>
        </fieldset>
        <label className="checkbox-inline">
          <input type="checkbox" checked={form.isActive} onChange={(e) => setForm((f) => ({ ...f, isActive: e.target.checked }))} />
          Active
        </label>
        <FormActions onClose={onClose} busy={save.isPending} label={editing ? 'Save rule' : 'Add rule'} />
      </form>
    </Dialog>
  );
}

/** The users-out threshold as Settings holds it: shown here, changed only there. */
function SettingsThreshold({ id }: { id: string }) {
  const trpc = useTRPC();
  const settings = useQuery(trpc.admin.platformSettings.get.queryOptions());
  return (
    <Field
      id={id}
      label="Threshold (users)"
      hint={
        <>
          Set on the <Link href="/settings#users-out-threshold">Settings page</Link>
        </>
      }
    >
      <input id={id} readOnly value={settings.data ? String(settings.data.usersOutOfCreditsThreshold) : ''} />
    </Field>
  );
}
