import { RULES_CSV_COLUMNS } from './rules-csv.js';

/** The import template (GET /v1/imports/template): a comment on formats, the columns, an example row. */
export function importTemplateCsv(): string {
  const comment = [
    '# callguard rules import template; UTF-8, comma separated. Comment lines: above the header, any line',
    '#   starting with #; below it, # alone or # then a space or tab (#31#14045551021,block is a rule).',
    '# called / calling: a number (digits * #; + spaces - . ( ) are stripped) or a pattern: _3712! prefix,',
    '#   _3712. prefix + at least one more digit, _14045266XXX fixed-length range; calling may be anonymous.',
    '#   At least one of called and calling. direction: inbound | outbound | both (default both).',
    '# action: block | allow (default block). group, type, ou: names; empty = the import job defaults.',
    '# sbc, provider, customer_group, user: optional scope. calling_country: ISO 3166 alpha-2 (US, LV).',
    '# validity_value 1-120 with validity_unit hour | day | month | year; both empty = permanent',
    '#   (or the job default validity). remarks: free text. id: ignored on import (ids are given out).',
    '# Upload: at most 50,000 records; from a file server: at most 2,000,000.',
  ];
  const example = [
    '',
    '14045266123',
    '',
    'outbound',
    'block',
    'dnc',
    'auto-wrap-up',
    'sales',
    '',
    '',
    '',
    '',
    '',
    '30',
    'day',
    'asked not to be called',
  ];
  return `${[...comment, RULES_CSV_COLUMNS.join(','), example.join(',')].join('\r\n')}\r\n`;
}
