/**
 * The OUs of the key that started a job or created a schedule, recorded with it; absent when the key
 * is not limited to OUs (a tenant admin). A caller confined to OUs (an agent under data isolation)
 * sees and acts on a job only when every recorded OU is one of its own; anything else is answered as
 * if it did not exist. A job without recorded OUs is visible only to callers not confined to OUs.
 */
export type JobOus = readonly string[] | undefined;

export function jobVisible(scope: ReadonlySet<string> | undefined, ous: JobOus): boolean {
  if (scope === undefined) return true;
  return ous !== undefined && ous.length > 0 && ous.every((ou) => scope.has(ou));
}

/** `{ ous }` to spread into job data or a stored schedule, nothing when unrestricted. */
export const withOus = (ous: JobOus): { ous?: string[] } => (ous ? { ous: [...ous].sort() } : {});
