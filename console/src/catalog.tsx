import { type ComponentChildren, createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { get, getAll } from './api';
import type { Option } from './components/ui';
import { useLatestRequest } from './latest-request';
import type { BlocklistType, Group, Ou, Params } from './model';

/**
 * The tenant's small catalogues (OUs, groups, types) and parameters, loaded once after sign-in and
 * again after the console changes one. The API already leaves out what the key may not see (an agent
 * with data isolation on gets only its OUs and their groups and types).
 */
export interface Catalog {
  ous: Ou[];
  groups: Group[];
  types: BlocklistType[];
  params: Params | undefined;
  loaded: boolean;
  error: string | undefined;
  reload: () => Promise<void>;
}

const CatalogContext = createContext<Catalog>({
  ous: [],
  groups: [],
  types: [],
  params: undefined,
  loaded: false,
  error: undefined,
  reload: async () => {},
});

export function CatalogProvider(props: { children: ComponentChildren }) {
  const [state, setState] = useState<Omit<Catalog, 'reload'>>({
    ous: [],
    groups: [],
    types: [],
    params: undefined,
    loaded: false,
    error: undefined,
  });
  const beginRequest = useLatestRequest();
  const reload = useCallback(async () => {
    const newest = beginRequest();
    try {
      const [ous, groups, types, params] = await Promise.all([
        getAll<Ou>('/v1/ous'),
        getAll<Group>('/v1/groups'),
        getAll<BlocklistType>('/v1/types'),
        get<Params>('/v1/params'),
      ]);
      if (newest()) setState({ ous, groups, types, params, loaded: true, error: undefined });
    } catch (error) {
      if (newest()) setState((s) => ({ ...s, loaded: true, error: (error as Error).message }));
    }
  }, [beginRequest]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return <CatalogContext.Provider value={{ ...state, reload }}>{props.children}</CatalogContext.Provider>;
}

export const useCatalog = (): Catalog => useContext(CatalogContext);

/** The name of the catalog entry `id` names, the id itself when the key cannot see it, '' for none. */
export const nameOf = (list: ReadonlyArray<{ id: string; name: string }>, id: string | undefined): string =>
  id ? (list.find((x) => x.id === id)?.name ?? id) : '';

/** Options for a select; `none` adds a first empty choice with that label. */
export function optionsOf(items: ReadonlyArray<{ id: string; name: string }>, none?: string): Option[] {
  const opts = items.map((x) => ({ value: x.id, label: x.name === x.id ? x.id : `${x.name} (${x.id})` }));
  return none === undefined ? opts : [{ value: '', label: none }, ...opts];
}
