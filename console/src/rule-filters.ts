import type { Query } from './api';

/** The Blocklist page's search, shared with the export dialog (which exports what is searched). */
export interface RuleFilters {
  number: string;
  match: 'exact' | 'matching';
  group: string;
  type: string;
  ou: string;
  direction: string;
  action: string;
}

export const EMPTY_RULE_FILTERS: RuleFilters = {
  number: '',
  match: 'exact',
  group: '',
  type: '',
  ou: '',
  direction: '',
  action: '',
};

/** The query GET /v1/rules (and the export's filter) takes for a search. */
export function filterQuery(f: RuleFilters): Query {
  return {
    number: f.number.trim() || undefined,
    match: f.number.trim() ? f.match : undefined,
    group: f.group || undefined,
    type: f.type || undefined,
    ou: f.ou || undefined,
    direction: f.direction || undefined,
    action: f.action || undefined,
  };
}
