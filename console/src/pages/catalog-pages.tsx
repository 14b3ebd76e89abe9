import { useState } from 'preact/hooks';
import { api, failureOutside, fieldErrors, messageOf } from '../api';
import { nameOf, optionsOf, useCatalog } from '../catalog';
import { FormFailure, IdAndName, OuAndDescription } from '../components/shared-fields';
import {
  OPERATION_LABEL,
  type TypeOperation,
  TypeOperationFields,
  typeOperationBody,
  typeOperationOf,
} from '../components/type-operation-fields';
import { Dialog, Notice, Pager, Select, SubmitOrCancel, TableWrap, TextInput } from '../components/ui';
import type { BlocklistType, Group, Ou } from '../model';

const PAGE_SIZE = 50;

type Kind = 'ous' | 'groups' | 'types';
type Item = Ou | Group | BlocklistType;

/** What differs between the three catalogues: their names, their extra columns and their fields. */
interface Spec {
  readonly kind: Kind;
  readonly title: string;
  readonly what: string;
  readonly empty: string;
}
const SPECS: Record<Kind, Spec> = {
  ous: { kind: 'ous', title: 'OUs', what: 'OU', empty: 'No OUs yet.' },
  groups: { kind: 'groups', title: 'Groups', what: 'group', empty: 'No blocklist groups yet.' },
  types: { kind: 'types', title: 'Types', what: 'type', empty: 'No blocklist types yet.' },
};

/** A catalogue page: search, paging, new and edit dialogs with the API's field errors, delete with its refusal. */
function CatalogPage(props: { spec: Spec }) {
  const { spec } = props;
  const catalog = useCatalog();
  const all: Item[] = catalog[spec.kind];
  const [query, setQuery] = useState('');
  const [page, setPage] = useState(0);
  const [editing, setEditing] = useState<Item | 'new'>();
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<string>();

  const q = query.trim().toLowerCase();
  const matching = q
    ? all.filter((x) => x.id.toLowerCase().includes(q) || x.name.toLowerCase().includes(q))
    : all;
  const shown = matching.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);

  const remove = async (item: Item) => {
    if (!window.confirm(`Delete ${spec.what} "${item.name}"?`)) return;
    setError(undefined);
    setNotice(undefined);
    try {
      await api('DELETE', `/v1/${spec.kind}/${encodeURIComponent(item.id)}`);
      await catalog.reload();
      setNotice(`Deleted ${spec.what} "${item.name}".`);
    } catch (err) {
      setError(messageOf(err));
    }
  };

  return (
    <section aria-labelledby={`${spec.kind}-title`} class="page">
      <div class="page-head">
        <h1 id={`${spec.kind}-title`}>{spec.title}</h1>
        <div class="toolbar">
          <button type="button" class="primary" onClick={() => setEditing('new')}>
            {`New ${spec.what}`}
          </button>
        </div>
      </div>
      <form class="filters" aria-label={`Search ${spec.title}`} onSubmit={(e) => e.preventDefault()}>
        <TextInput
          label="Search"
          name="search"
          value={query}
          placeholder="id or name"
          onInput={(v) => {
            setQuery(v);
            setPage(0);
          }}
        />
      </form>
      {notice ? <Notice kind="ok">{notice}</Notice> : null}
      {error ? <Notice kind="error">{error}</Notice> : null}
      <TableWrap label={`${spec.title} list`}>
        <table class={`catalog ${spec.kind}`} aria-busy={!catalog.loaded}>
          <caption class="sr-only">{spec.title}</caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Name</th>
              {spec.kind === 'ous' ? <th scope="col">Parent</th> : <th scope="col">OU</th>}
              {spec.kind === 'types' ? <th scope="col">Operation</th> : null}
              {spec.kind === 'types' ? <th scope="col">Business result / prompt</th> : null}
              {spec.kind === 'ous' ? null : <th scope="col">Description</th>}
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((x) => (
              <tr key={x.id} data-id={x.id}>
                <td class="mono">{x.id}</td>
                <td>{x.name}</td>
                <td>
                  {'parent' in x ? nameOf(catalog.ous, x.parent) : nameOf(catalog.ous, (x as Group).ou)}
                </td>
                {'operation' in x ? <td>{OPERATION_LABEL[x.operation]}</td> : null}
                {'operation' in x ? (
                  <td>
                    {x.businessResult ?? ''}
                    {x.operation === 'pop_up' ? <div class="muted">{x.promptContent}</div> : null}
                  </td>
                ) : null}
                {spec.kind === 'ous' ? null : <td>{(x as Group).description ?? ''}</td>}
                <td class="row-actions">
                  <button type="button" class="link" onClick={() => setEditing(x)}>
                    Edit<span class="sr-only"> {x.name}</span>
                  </button>
                  <button type="button" class="link danger" onClick={() => void remove(x)}>
                    Delete<span class="sr-only"> {x.name}</span>
                  </button>
                </td>
              </tr>
            ))}
            {catalog.loaded && shown.length === 0 ? (
              <tr>
                <td colSpan={7} class="empty">
                  {q ? 'Nothing matches.' : spec.empty}
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </TableWrap>
      <Pager
        label={`${spec.title} pages`}
        page={page}
        total={matching.length}
        hasNext={(page + 1) * PAGE_SIZE < matching.length}
        onPrev={() => setPage(Math.max(0, page - 1))}
        onNext={() => setPage(page + 1)}
      />
      {editing ? (
        <CatalogDialog
          spec={spec}
          item={editing === 'new' ? undefined : editing}
          onClose={() => setEditing(undefined)}
          onSaved={async (saved) => {
            setEditing(undefined);
            setError(undefined);
            await catalog.reload();
            setNotice(
              `${spec.what === 'OU' ? 'OU' : spec.what[0]!.toUpperCase() + spec.what.slice(1)} "${saved.name}" saved.`,
            );
          }}
        />
      ) : null}
    </section>
  );
}

/** New or edit: the catalogue's fields; a type's operation decides which of its fields are asked. */
function CatalogDialog(props: {
  spec: Spec;
  item: Item | undefined;
  onClose: () => void;
  onSaved: (saved: Item) => Promise<void>;
}) {
  const { spec, item } = props;
  const catalog = useCatalog();
  const v = (item ?? {}) as Record<string, string | undefined>;
  const [id, setId] = useState(item?.id ?? '');
  const [name, setName] = useState(item?.name ?? '');
  const [ou, setOu] = useState(v.ou ?? '');
  const [parent, setParent] = useState(v.parent ?? '');
  const [description, setDescription] = useState(v.description ?? '');
  const [op, setOp] = useState<TypeOperation>(typeOperationOf(v));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string>();

  const save = async (e: Event) => {
    e.preventDefault();
    setErrors({});
    setFailure(undefined);
    const key = (item?.id ?? id).trim();
    if (!key) {
      setErrors({ id: `Give the ${spec.what} an id` });
      return;
    }
    const body: Record<string, string> = { name: name.trim() };
    if (spec.kind === 'ous') {
      if (parent) body.parent = parent;
    } else {
      if (ou) body.ou = ou;
      if (description.trim()) body.description = description.trim();
    }
    if (spec.kind === 'types') Object.assign(body, typeOperationBody(op));
    try {
      const saved = await api<Item>('PUT', `/v1/${spec.kind}/${encodeURIComponent(key)}`, { body });
      await props.onSaved(saved);
    } catch (err) {
      const f = fieldErrors(err);
      setErrors(f);
      setFailure(
        failureOutside(err, f, [
          'id',
          'name',
          'ou',
          'parent',
          'description',
          'operation',
          'businessResult',
          'promptContent',
          'jumpAddress',
        ]),
      );
    }
  };

  const title = item ? `Edit ${spec.what} ${item.id}` : `New ${spec.what}`;
  return (
    <Dialog
      title={title}
      onClose={props.onClose}
      footer={<SubmitOrCancel form="catalog-form" onClose={props.onClose} />}
    >
      <form id="catalog-form" class="grid-form" onSubmit={(e) => void save(e)} noValidate>
        <FormFailure failure={failure} />
        <IdAndName
          isNew={!item}
          id={id}
          onId={setId}
          name={name}
          onName={setName}
          errors={errors}
          refersTo="rules and bindings"
        />
        {spec.kind === 'ous' ? (
          <Select
            label="Parent OU"
            name="parent"
            value={parent}
            onChange={setParent}
            error={errors.parent}
            options={optionsOf(
              catalog.ous.filter((o) => o.id !== item?.id),
              'No parent',
            )}
          />
        ) : (
          <OuAndDescription
            ou={ou}
            onOu={setOu}
            description={description}
            onDescription={setDescription}
            errors={errors}
          />
        )}
        {spec.kind === 'types' ? <TypeOperationFields value={op} onChange={setOp} errors={errors} /> : null}
      </form>
    </Dialog>
  );
}

export const OusPage = () => <CatalogPage spec={SPECS.ous} />;
export const GroupsPage = () => <CatalogPage spec={SPECS.groups} />;
export const TypesPage = () => <CatalogPage spec={SPECS.types} />;
