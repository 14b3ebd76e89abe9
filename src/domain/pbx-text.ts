/**
 * Text callguard writes into a PBX channel (CALLGUARD_BUSINESS_RESULT) must arrive as the characters
 * stored. FreeSWITCH evaluates `${var}` and `${api(args)}` in a `set` argument (and again when the
 * dialplan reads the variable), reads backslashes as escapes and strips paired single quotes when it
 * splits an `api uuid_setvar` line (switch_separate_string); line breaks would end an ESL header. So such text refuses exactly those:
 * `${`, backslashes, single quotes and control characters. Everything else passes unchanged on both PBXes
 * (dialplan/freeswitch/README.md, "What FreeSWITCH expands").
 */
const UNSAFE = /\$\{|[\\'\p{Cc}]/u;

export const PBX_TEXT_RULE = 'text without "${", backslashes, single quotes or control characters';

export function isPbxSafeText(value: string): boolean {
  return !UNSAFE.test(value);
}

/**
 * A destination number handed back to FreeSWITCH on a command line (`uuid_transfer <uuid> <number>
 * XML <context>`): the caller chose it, so only what a dialled number or SIP user part is made of,
 * and never a leading `-` (uuid_transfer would read `-both` / `-bleg` as a flag).
 */
const DESTINATION = /^[A-Za-z0-9+*#][A-Za-z0-9+*#._~@-]{0,63}$/;

export function isSafeDestination(value: string): boolean {
  return DESTINATION.test(value);
}
