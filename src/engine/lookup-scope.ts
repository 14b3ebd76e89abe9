/**
 * What a lookup needs besides the call: which rule ids newer layers hide and which groups the call's
 * task is bound to. Its own module so that the index, the overlay and the engine all import it and
 * none of them imports another for it.
 */

/** Something that can hide rule ids of an older layer. */
export interface IdMask {
  has(id: number): boolean;
}

/**
 * The groups a call's task is bound to, looked up only when a group-bound rule matches: most calls
 * match no rule, and they skip the bindings map altogether. The last task's groups are kept: an
 * engine's bindings never change (a new binding makes a new engine), so they stay right for as long as
 * this object lives, and a decision writes nothing here unless a group-bound rule matches a call of a
 * new task. (A per-decision reset was a store of the task into this long-lived object: a write
 * barrier on every decision, docs/DECISIONS.md.)
 */
export class TaskGroups {
  private task: string | undefined = undefined;
  private groups: ReadonlySet<string> | undefined = undefined;

  constructor(private readonly bindings: ReadonlyMap<string, ReadonlySet<string>>) {}

  /** Whether `task` (undefined: the call has none, so no group-bound rule applies) is bound to `group`. */
  has(task: string | undefined, group: string): boolean {
    if (task === undefined) return false;
    if (task !== this.task) {
      this.groups = this.bindings.get(task);
      this.task = task;
    }
    return this.groups?.has(group) === true;
  }
}

export interface LookupScope {
  readonly groups: TaskGroups;
  readonly masked: IdMask | null;
}
