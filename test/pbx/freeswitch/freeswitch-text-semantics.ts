/**
 * What FreeSWITCH 1.10 does to text callguard hands it, as the doubles model it. Sources (public
 * FreeSWITCH source, signalwire/freeswitch; the recorded fixture is the evidence for the first):
 * - `set` (mod_dptools base_set) expands its argument with switch_channel_expand_variables, and
 *   switch_core_session_exec has already expanded the whole argument once before (recorded:
 *   outbound-mode/e-set-expands-variables, `Y=${strftime(%Y)} U=${uuid}` arrived as `Y=2026 U=<uuid>`).
 *   `${name}` is a channel variable ('' when unset), `${api(args)}` runs an API; values substituted
 *   are expanded again (recursively, src/switch_channel.c switch_channel_expand_variables_check).
 *   `\$` keeps a dollar literal.
 * - `api uuid_setvar <uuid> <name> <value>` (mod_commands) sets the value WITHOUT expanding it, but
 *   splits the line with switch_separate_string (src/switch_utils.c separate_string_blank_delim +
 *   cleanup_separated_string): leading/trailing spaces go, paired single quotes are removed and a
 *   backslash escapes the next character.
 */

/** The APIs the doubles know inside `${api(args)}`; anything else answers like an unknown API. */
function runApi(name: string, args: string, vars: Record<string, string>, now: Date): string {
  switch (name) {
    case 'strftime':
      return args
        .replace(/%Y/g, String(now.getUTCFullYear()))
        .replace(/%m/g, String(now.getUTCMonth() + 1).padStart(2, '0'))
        .replace(/%d/g, String(now.getUTCDate()).padStart(2, '0'));
    case 'uuid_getvar':
      return vars[args.split(' ')[1] ?? ''] ?? '_undef_';
    default:
      return `-ERR ${name} Command not found!\n`;
  }
}

/** switch_channel_expand_variables, for `${var}` and `${api(args)}` (nested braces allowed). */
export function expandVariables(
  text: string,
  vars: Record<string, string>,
  now = new Date(),
  depth = 0,
): string {
  if (depth > 100 || !/\$\\*\{|\\\$/.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\' && text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (ch === '$' && text[i + 1] === '{') {
      let level = 1;
      let j = i + 2;
      for (; j < text.length && level > 0; j++) {
        if (text[j] === '{') level++;
        else if (text[j] === '}') level--;
      }
      if (level > 0) {
        out += text.slice(i);
        break;
      }
      const inner = expandVariables(text.slice(i + 2, j - 1), vars, now, depth + 1);
      const call = /^([A-Za-z0-9_]+)\((.*)\)$/s.exec(inner);
      const value = call ? runApi(call[1], call[2], vars, now) : (vars[inner] ?? '');
      out += expandVariables(value, vars, now, depth + 1);
      i = j - 1;
      continue;
    }
    out += ch;
  }
  return out;
}

/**
 * switch_separate_string(buf, ' ', argv, max): the first max-1 words split on spaces (outside
 * single quotes), the last one the rest of the line; each cleaned up.
 */
export function separateString(line: string, max: number): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < line.length && parts.length < max) {
    while (line[i] === ' ') i++;
    if (i >= line.length) break;
    if (parts.length === max - 1) {
      parts.push(line.slice(i));
      break;
    }
    let j = i;
    let quoted = false;
    for (; j < line.length; j++) {
      if (line[j] === '\\') j++;
      else if (line[j] === "'") quoted = !quoted;
      else if (line[j] === ' ' && !quoted) break;
    }
    parts.push(line.slice(i, j));
    i = j + 1;
  }
  return parts.map(cleanup);
}

const UNESCAPE: Record<string, string> = { n: '\n', r: '\r', t: '\t', s: ' ' };

/** cleanup_separated_string: escapes resolved, paired single quotes removed, outer spaces trimmed. */
function cleanup(word: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < word.length; i++) {
    const ch = word[i];
    if (ch === '\\' && i + 1 < word.length) {
      const e = word[i + 1];
      if (e === "'" || e === '"' || e === ' ' || e === '\\' || UNESCAPE[e]) {
        out += UNESCAPE[e] ?? e;
        i++;
        continue;
      }
    }
    if (ch === "'" && (quoted || word.indexOf("'", i + 1) !== -1)) {
      quoted = !quoted;
      continue;
    }
    out += ch;
  }
  return out.trim();
}
