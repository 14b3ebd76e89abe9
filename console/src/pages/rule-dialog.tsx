import { useState } from 'preact/hooks';
import { api, fieldErrors, messageOf } from '../api';
import { optionsOf, useCatalog } from '../catalog';
import { OuAndDescription } from '../components/shared-fields';
import {
  type TypeOperation,
  TypeOperationFields,
  typeOperationBody,
  typeOperationOf,
} from '../components/type-operation-fields';
import {
  Dialog,
  Field,
  Notice,
  type Option,
  Select,
  SubmitOrCancel,
  TextArea,
  TextInput,
} from '../components/ui';
import { type BlocklistType, DIRECTION_OPTIONS, type Group, type Rule, type ValidityUnit } from '../model';

const UNITS: Array<{ value: ValidityUnit; label: string }> = [
  { value: 'hour', label: 'Hours' },
  { value: 'day', label: 'Days' },
  { value: 'month', label: 'Months' },
  { value: 'year', label: 'Years' },
];

/** A validity that ends close to an existing expiry, so that saving an edit keeps it roughly as it was. */
function validityFor(expiresAt: number | undefined): {
  permanent: boolean;
  value: string;
  unit: ValidityUnit;
} {
  if (expiresAt === undefined) return { permanent: true, value: '30', unit: 'day' };
  const hours = Math.max(1, Math.ceil((expiresAt - Date.now()) / 3_600_000));
  if (hours <= 120) return { permanent: false, value: String(hours), unit: 'hour' };
  const days = Math.ceil(hours / 24);
  if (days <= 120) return { permanent: false, value: String(days), unit: 'day' };
  const months = Math.ceil(days / 30.4);
  if (months <= 120) return { permanent: false, value: String(months), unit: 'month' };
  return { permanent: false, value: String(Math.min(120, Math.ceil(months / 12))), unit: 'year' };
}

/** New / edit dialog of the Blocklist page. */
export function RuleDialog(props: { rule?: Rule; onClose: () => void; onSaved: (message: string) => void }) {
  const catalog = useCatalog();
  const r = props.rule;
  const initialValidity = validityFor(r?.expiresAt);
  const [side, setSide] = useState<'called' | 'calling'>(r && r.called === undefined ? 'calling' : 'called');
  const [number, setNumber] = useState(r ? (r.called ?? r.calling ?? '') : '');
  const [direction, setDirection] = useState<string>(r?.direction ?? 'outbound');
  const [action, setAction] = useState<string>(r?.action ?? 'block');
  const [override, setOverride] = useState(false);
  const [ou, setOu] = useState(r?.ou ?? (catalog.ous.length === 1 ? catalog.ous[0]!.id : ''));
  const [group, setGroup] = useState(r?.groupId ?? '');
  const [type, setType] = useState(r?.typeId ?? '');
  const [permanent, setPermanent] = useState(initialValidity.permanent);
  const [validity, setValidity] = useState(initialValidity.value);
  const [unit, setUnit] = useState<ValidityUnit>(initialValidity.unit);
  const [remarks, setRemarks] = useState(r?.remarks ?? '');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [creating, setCreating] = useState<'group' | 'type' | null>(null);

  const validityError = (() => {
    if (permanent) return undefined;
    const n = Number(validity);
    return Number.isInteger(n) && n >= 1 && n <= 120 ? undefined : 'Validity is a whole number from 1 to 120';
  })();

  const save = async (e: Event) => {
    e.preventDefault();
    if (validityError) {
      setErrors({ validity: validityError });
      return;
    }
    setBusy(true);
    setErrors({});
    setFailure(undefined);
    const body: Record<string, unknown> = {
      [side]: number,
      direction,
      action,
      ...(ou ? { ou } : {}),
      ...(group ? { groupId: group } : {}),
      ...(type ? { typeId: type } : {}),
      ...(permanent ? {} : { validity: { value: Number(validity), unit } }),
      ...(remarks.trim() ? { remarks: remarks.trim() } : {}),
    };
    // An edit that keeps the other side's pattern (a rule may have both).
    const other = side === 'called' ? 'calling' : 'called';
    if (r?.[other] !== undefined) body[other] = r[other];
    try {
      const duplicates = override ? 'override' : 'reject';
      const res = r
        ? await api<{ rule: Rule; status: string }>('PUT', `/v1/rules/${r.id}`, {
            body,
            query: { duplicates },
          })
        : await api<{ rule: Rule; status: string }>('POST', '/v1/rules', { body, query: { duplicates } });
      props.onSaved(`Rule ${res.rule.id} ${res.status}.`);
    } catch (err) {
      const fields = fieldErrors(err);
      if (fields.called || fields.calling || fields.number) {
        fields.number = fields[side] ?? fields.called ?? fields.calling ?? fields.number!;
      }
      if (fields.groupId) fields.group = fields.groupId;
      if (fields.typeId) fields.type = fields.typeId;
      for (const k of Object.keys(fields)) if (k.startsWith('validity')) fields.validity = fields[k]!;
      setErrors(fields);
      const shown = ['number', 'group', 'type', 'ou', 'validity', 'remarks', 'direction', 'action'];
      if (!shown.some((k) => fields[k])) setFailure(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={r ? `Edit rule ${r.id}` : 'New blocklist rule'}
      onClose={props.onClose}
      wide
      footer={<SubmitOrCancel form="rule-form" onClose={props.onClose} busy={busy} busyLabel="Saving…" />}
    >
      <form id="rule-form" class="grid-form" onSubmit={save} noValidate>
        {failure ? <Notice kind="error">{failure}</Notice> : null}
        <div class="span-2 row">
          <TextInput
            label="Number or pattern"
            name="number"
            value={number}
            onInput={setNumber}
            error={errors.number}
            required
            autofocus
            autocomplete="off"
            help={
              <>
                Exact number (<code>14045266123</code>), prefix (<code>_1404!</code>), range (
                <code>_14045266XXX</code>) or <code>anonymous</code> for the calling side.
              </>
            }
          />
          <Select
            label="Compare with"
            name="side"
            value={side}
            onChange={(v) => setSide(v as 'called' | 'calling')}
            options={[
              { value: 'called', label: 'Called number' },
              { value: 'calling', label: 'Calling number' },
            ]}
          />
        </div>
        <Select
          label="Direction"
          name="direction"
          value={direction}
          onChange={setDirection}
          error={errors.direction}
          options={DIRECTION_OPTIONS}
        />
        <Select
          label="Action"
          name="action"
          value={action}
          onChange={setAction}
          error={errors.action}
          options={[
            { value: 'block', label: 'Block' },
            { value: 'allow', label: 'Allow (exception)' },
          ]}
        />
        <Select
          label="OU"
          name="ou"
          value={ou}
          onChange={setOu}
          error={errors.ou}
          options={optionsOf(catalog.ous, 'No OU')}
          help="Only the OUs this key may see are listed."
        />
        <div class="switch-field">
          <label class="switch">
            <input
              type="checkbox"
              role="switch"
              aria-checked={override}
              name="override"
              checked={override}
              onChange={(e) => setOverride((e.currentTarget as HTMLInputElement).checked)}
            />
            <span>Override duplicates</span>
          </label>
          <div class="help">On: a rule with identical conditions is replaced instead of refused.</div>
        </div>
        <SelectWithNew
          label="Group"
          name="group"
          value={group}
          onChange={setGroup}
          error={errors.group}
          options={optionsOf(catalog.groups, 'No group (global)')}
          expanded={creating === 'group'}
          onNew={() => setCreating('group')}
        />
        <SelectWithNew
          label="Type"
          name="type"
          value={type}
          onChange={setType}
          error={errors.type}
          options={optionsOf(catalog.types, 'Tenant default treatment')}
          expanded={creating === 'type'}
          onNew={() => setCreating('type')}
        />
        {creating === 'group' ? (
          <GroupForm
            defaultOu={ou}
            onCancel={() => setCreating(null)}
            onCreated={async (g) => {
              await catalog.reload();
              setGroup(g.id);
              setCreating(null);
            }}
          />
        ) : null}
        {creating === 'type' ? (
          <TypeForm
            defaultOu={ou}
            onCancel={() => setCreating(null)}
            onCreated={async (t) => {
              await catalog.reload();
              setType(t.id);
              setCreating(null);
            }}
          />
        ) : null}
        <fieldset class="span-2 validity">
          <legend>Validity</legend>
          <label class="inline">
            <input
              type="radio"
              name="validity-kind"
              checked={permanent}
              onChange={() => setPermanent(true)}
            />{' '}
            Permanent
          </label>
          <label class="inline">
            <input
              type="radio"
              name="validity-kind"
              checked={!permanent}
              onChange={() => setPermanent(false)}
            />{' '}
            Valid for
          </label>
          <Field label="Validity amount" error={errors.validity ?? (permanent ? undefined : validityError)}>
            {(id, describedBy, invalid) => (
              <input
                id={id}
                type="number"
                name="validity"
                min={1}
                max={120}
                step={1}
                disabled={permanent}
                value={validity}
                aria-describedby={describedBy}
                aria-invalid={invalid}
                onInput={(e) => setValidity((e.currentTarget as HTMLInputElement).value)}
              />
            )}
          </Field>
          <Select
            label="Unit"
            name="validity-unit"
            value={unit}
            disabled={permanent}
            onChange={(v) => setUnit(v as ValidityUnit)}
            options={UNITS}
          />
          {r?.expiresAt ? (
            <p class="help">Now expires {new Date(r.expiresAt).toLocaleString()}; saving counts from now.</p>
          ) : null}
        </fieldset>
        <div class="span-2">
          <TextArea
            label="Remarks"
            name="remarks"
            value={remarks}
            onInput={setRemarks}
            maxLength={1024}
            error={errors.remarks}
          />
        </div>
      </form>
    </Dialog>
  );
}

/** Enter in a sub-form's text input runs the sub-form's action, not the dialog's Save. */
const enterRuns = (action: () => Promise<void>) => (e: KeyboardEvent) => {
  if (e.key === 'Enter' && (e.target as HTMLElement).tagName === 'INPUT') {
    e.preventDefault();
    void action();
  }
};

/** A select with a "New …" link that opens the form creating one more choice below it. */
function SelectWithNew(props: {
  label: 'Group' | 'Type';
  name: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  options: Option[];
  expanded: boolean;
  onNew: () => void;
}) {
  return (
    <div class="with-action">
      <Select
        label={props.label}
        name={props.name}
        value={props.value}
        onChange={props.onChange}
        error={props.error}
        options={props.options}
      />
      <button type="button" class="link" onClick={props.onNew} aria-expanded={props.expanded}>
        {`New ${props.label.toLowerCase()}…`}
      </button>
    </div>
  );
}

/** Cancel and create at the foot of the new group and new type forms. */
function SubformActions(props: { what: string; onCancel: () => void; onCreate: () => Promise<void> }) {
  return (
    <div class="subform-actions">
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      <button type="button" class="primary" onClick={() => void props.onCreate()}>
        {`Create ${props.what}`}
      </button>
    </div>
  );
}

/** The id a new group or type gets: its name, which the API accepts as an id. */
const idOf = (name: string) => name.trim();

function GroupForm(props: {
  defaultOu: string;
  onCancel: () => void;
  onCreated: (g: Group) => Promise<void>;
}) {
  const catalog = useCatalog();
  const [name, setName] = useState('');
  const [ou, setOu] = useState(props.defaultOu);
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();

  const create = async () => {
    setErrors({});
    setFailure(undefined);
    if (!name.trim()) {
      setErrors({ name: 'Give the group a name' });
      return;
    }
    if (catalog.groups.some((g) => g.id === idOf(name))) {
      setErrors({ name: 'A group with this name exists' });
      return;
    }
    try {
      const g = await api<Group>('PUT', `/v1/groups/${encodeURIComponent(idOf(name))}`, {
        body: {
          name: name.trim(),
          ...(ou ? { ou } : {}),
          ...(description.trim() ? { description: description.trim() } : {}),
        },
      });
      await props.onCreated(g);
    } catch (err) {
      const f = fieldErrors(err);
      setErrors(f);
      if (!f.name && !f.ou && !f.description) setFailure(messageOf(err));
    }
  };

  return (
    <fieldset class="span-2 subform" aria-label="New group" onKeyDown={enterRuns(create)}>
      <legend>New group</legend>
      {failure ? <Notice kind="error">{failure}</Notice> : null}
      <TextInput
        label="Group name"
        name="group-name"
        value={name}
        onInput={setName}
        error={errors.name}
        required
      />
      <OuAndDescription
        ou={ou}
        onOu={setOu}
        description={description}
        onDescription={setDescription}
        errors={errors}
        prefix={{ label: 'Group', name: 'group' }}
      />
      <SubformActions what="group" onCancel={props.onCancel} onCreate={create} />
    </fieldset>
  );
}

function TypeForm(props: {
  defaultOu: string;
  onCancel: () => void;
  onCreated: (t: BlocklistType) => Promise<void>;
}) {
  const catalog = useCatalog();
  const [name, setName] = useState('');
  const [ou, setOu] = useState(props.defaultOu);
  const [description, setDescription] = useState('');
  const [op, setOp] = useState<TypeOperation>(typeOperationOf({}));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();

  const create = async () => {
    setErrors({});
    setFailure(undefined);
    const missing: Record<string, string> = {};
    if (!name.trim()) missing.name = 'Give the type a name';
    if (op.operation === 'auto_wrap_up' && !op.businessResult.trim())
      missing.businessResult = 'Auto Wrap Up needs a business result';
    if (op.operation === 'pop_up' && !op.promptContent.trim())
      missing.promptContent = 'Pop Up needs the prompt content';
    if (op.operation === 'pop_up' && !op.jumpAddress.trim())
      missing.jumpAddress = 'Pop Up needs a jump address';
    if (catalog.types.some((t) => t.id === idOf(name))) missing.name = 'A type with this name exists';
    if (Object.keys(missing).length > 0) {
      setErrors(missing);
      return;
    }
    const body: Record<string, string> = { name: name.trim(), ...typeOperationBody(op) };
    if (ou) body.ou = ou;
    if (description.trim()) body.description = description.trim();
    try {
      const t = await api<BlocklistType>('PUT', `/v1/types/${encodeURIComponent(idOf(name))}`, { body });
      await props.onCreated(t);
    } catch (err) {
      const f = fieldErrors(err);
      setErrors(f);
      if (Object.keys(f).length === 0) setFailure(messageOf(err));
    }
  };

  return (
    <fieldset class="span-2 subform" aria-label="New type" onKeyDown={enterRuns(create)}>
      <legend>New type</legend>
      {failure ? <Notice kind="error">{failure}</Notice> : null}
      <TextInput
        label="Type name"
        name="type-name"
        value={name}
        onInput={setName}
        error={errors.name}
        required
      />
      <Select
        label="Type OU"
        name="type-ou"
        value={ou}
        onChange={setOu}
        error={errors.ou}
        options={optionsOf(catalog.ous, 'No OU')}
      />
      <TextInput
        label="Type description"
        name="type-description"
        value={description}
        onInput={setDescription}
        error={errors.description}
      />
      <TypeOperationFields value={op} onChange={setOp} errors={errors} namePrefix="type-" />
      <SubformActions what="type" onCancel={props.onCancel} onCreate={create} />
    </fieldset>
  );
}
