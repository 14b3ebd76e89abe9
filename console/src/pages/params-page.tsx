import { useEffect, useState } from 'preact/hooks';
import { api, failureOutside, fieldErrors } from '../api';
import { useCatalog } from '../catalog';
import { FormFailure } from '../components/shared-fields';
import { Notice, Select, TextInput } from '../components/ui';

type FailureMode = 'fail-open' | 'fail-closed';

/** What the page edits, as the form holds it (text inputs are strings). */
interface Form {
  mode: 'digits' | 'e164';
  defaultCountry: string;
  defaultAction: 'allow' | 'block';
  hangupCause: string;
  blockWithoutType: 'hangup' | 'continue';
  inbound: FailureMode;
  outbound: FailureMode;
  dataIsolation: boolean;
  agentDesktopUrl: string;
  campaignEngineUrl: string;
  webhookSecret: string;
}

const FAILURE_OPTIONS = [
  { value: 'fail-open', label: 'Fail open (let the call go on)' },
  { value: 'fail-closed', label: 'Fail closed (block the call)' },
];

function formOf(p: Record<string, unknown>): Form {
  const n = p.normalization as { mode: 'digits' | 'e164'; defaultCountry?: string };
  const f = p.failurePolicy as { inbound: FailureMode; outbound: FailureMode };
  const w = (p.webhooks ?? {}) as { agentDesktopUrl?: string; campaignEngineUrl?: string };
  return {
    mode: n.mode,
    defaultCountry: n.defaultCountry ?? '',
    defaultAction: p.defaultAction as 'allow' | 'block',
    hangupCause: String(p.hangupCause),
    blockWithoutType: p.blockWithoutType as 'hangup' | 'continue',
    inbound: f.inbound,
    outbound: f.outbound,
    dataIsolation: Boolean(p.dataIsolation),
    agentDesktopUrl: w.agentDesktopUrl ?? '',
    campaignEngineUrl: w.campaignEngineUrl ?? '',
    webhookSecret: '',
  };
}

/** Parameters an operator sets for the tenant (with the system key): shown, not edited, here. */
const OPERATOR_FIELDS = [
  ['allowPrivateWebhookTargets', 'Private webhook targets allowed'],
  ['scheduleLimit', 'Scheduled tasks allowed'],
  ['maxScheduledImports', 'Scheduled imports allowed'],
  ['maxScheduledExports', 'Scheduled exports allowed'],
  ['auditRetentionDays', 'Audit trail kept (days)'],
  ['auditMaxEntries', 'Audit trail entries kept'],
] as const;

/** The tenant's parameters: how numbers are compared, what a call gets when nothing decides, webhooks. */
export function ParamsPage() {
  const catalog = useCatalog();
  const params = catalog.params as Record<string, unknown> | undefined;
  const [form, setForm] = useState<Form>();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();
  const [notice, setNotice] = useState<string>();

  useEffect(() => {
    if (params) setForm(formOf(params));
  }, [params]);
  if (!params || !form) return <p aria-busy="true">Loading…</p>;

  const set =
    <K extends keyof Form>(k: K) =>
    (v: Form[K]) =>
      setForm({ ...form, [k]: v });

  const save = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setFailure(undefined);
    setNotice(undefined);
    const body: Record<string, unknown> = {
      normalization:
        form.mode === 'e164'
          ? { mode: 'e164', defaultCountry: form.defaultCountry.trim() }
          : { mode: 'digits' },
      defaultAction: form.defaultAction,
      hangupCause: Number(form.hangupCause),
      blockWithoutType: form.blockWithoutType,
      failurePolicy: { inbound: form.inbound, outbound: form.outbound },
      dataIsolation: form.dataIsolation,
      webhooks: {
        ...(form.agentDesktopUrl.trim() ? { agentDesktopUrl: form.agentDesktopUrl.trim() } : {}),
        ...(form.campaignEngineUrl.trim() ? { campaignEngineUrl: form.campaignEngineUrl.trim() } : {}),
      },
      ...(form.webhookSecret ? { webhookSecret: form.webhookSecret } : {}),
    };
    try {
      await api('PATCH', '/v1/params', { body });
      await catalog.reload();
      setNotice('Parameters saved. Call nodes apply them within milliseconds.');
    } catch (err) {
      const f = fieldErrors(err);
      setErrors(f);
      setFailure(
        failureOutside(err, f, [
          'normalization',
          'normalization.mode',
          'normalization.defaultCountry',
          'hangupCause',
          'webhooks.agentDesktopUrl',
          'webhooks.campaignEngineUrl',
          'webhookSecret',
        ]),
      );
    }
  };

  return (
    <section aria-labelledby="params-title" class="page">
      <div class="page-head">
        <h1 id="params-title">Parameters</h1>
      </div>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      <form class="grid-form params" aria-label="Tenant parameters" onSubmit={(e) => void save(e)} noValidate>
        <FormFailure failure={failure} />
        <fieldset class="span-2">
          <legend>Numbers</legend>
          <Select
            label="Normalisation"
            name="mode"
            value={form.mode}
            onChange={(v) => set('mode')(v as Form['mode'])}
            error={errors['normalization.mode'] ?? errors.normalization}
            options={[
              { value: 'digits', label: 'Digits as dialled' },
              { value: 'e164', label: 'E.164 (national numbers get the default country)' },
            ]}
          />
          {form.mode === 'e164' ? (
            <TextInput
              label="Default country"
              name="defaultCountry"
              value={form.defaultCountry}
              onInput={set('defaultCountry')}
              error={errors['normalization.defaultCountry']}
              placeholder="US"
              required
            />
          ) : null}
        </fieldset>
        <fieldset class="span-2">
          <legend>Calls</legend>
          <Select
            label="When no rule matches"
            name="defaultAction"
            value={form.defaultAction}
            onChange={(v) => set('defaultAction')(v as Form['defaultAction'])}
            options={[
              { value: 'allow', label: 'Allow' },
              { value: 'block', label: 'Block' },
            ]}
          />
          <TextInput
            label="Hang-up cause (Q.850)"
            name="hangupCause"
            value={form.hangupCause}
            onInput={set('hangupCause')}
            error={errors.hangupCause}
            help="21: call rejected; 1 to 127."
          />
          <Select
            label="A block without a type"
            name="blockWithoutType"
            value={form.blockWithoutType}
            onChange={(v) => set('blockWithoutType')(v as Form['blockWithoutType'])}
            options={[
              { value: 'hangup', label: 'Hang up' },
              { value: 'continue', label: 'Continue with CALLGUARD_RESULT=block (the dialplan decides)' },
            ]}
          />
          <Select
            label="Inbound calls when callguard cannot decide"
            name="inbound"
            value={form.inbound}
            onChange={(v) => set('inbound')(v as FailureMode)}
            options={FAILURE_OPTIONS}
          />
          <Select
            label="Outbound calls when callguard cannot decide"
            name="outbound"
            value={form.outbound}
            onChange={(v) => set('outbound')(v as FailureMode)}
            options={FAILURE_OPTIONS}
          />
          <label class="check span-2">
            <input
              type="checkbox"
              name="dataIsolation"
              checked={form.dataIsolation}
              onChange={(e) => set('dataIsolation')((e.currentTarget as HTMLInputElement).checked)}
            />{' '}
            Data isolation: agents see and change only the rules of their OUs
          </label>
        </fieldset>
        <fieldset class="span-2">
          <legend>Webhooks</legend>
          <TextInput
            label="Agent desktop URL (pop-ups)"
            name="agentDesktopUrl"
            value={form.agentDesktopUrl}
            onInput={set('agentDesktopUrl')}
            error={errors['webhooks.agentDesktopUrl']}
            placeholder="https://desktop.example/callguard"
          />
          <TextInput
            label="Campaign engine URL (wrap-ups)"
            name="campaignEngineUrl"
            value={form.campaignEngineUrl}
            onInput={set('campaignEngineUrl')}
            error={errors['webhooks.campaignEngineUrl']}
            placeholder="https://dialer.example/callguard"
          />
          <TextInput
            label="Webhook secret"
            name="webhookSecret"
            value={form.webhookSecret}
            onInput={set('webhookSecret')}
            error={errors.webhookSecret}
            help={
              params.webhookSecretSet
                ? 'A secret is set (never shown). Type a new one to replace it.'
                : 'No secret is set: webhooks are signed with it (HMAC-SHA256). At least 16 characters.'
            }
          />
        </fieldset>
        <div class="span-2 form-actions">
          <button type="submit" class="primary">
            Save parameters
          </button>
        </div>
      </form>
      <section aria-labelledby="operator-title" class="operator">
        <h2 id="operator-title">Set by the operator</h2>
        <dl>
          {OPERATOR_FIELDS.filter(([k]) => params[k] !== undefined).map(([k, label]) => (
            <div key={k}>
              <dt>{label}</dt>
              <dd>{String(params[k])}</dd>
            </div>
          ))}
        </dl>
      </section>
    </section>
  );
}
