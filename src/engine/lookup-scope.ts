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
 * match no rule, and they skip the bindings map altogether.
 */
export class TaskGroups {
  private task: string | undefined = undefined;
  private groups: ReadonlySet<string> | undefined = undefined;
  private resolved = true;

  constructor(private readonly bindings: ReadonlyMap<string, ReadonlySet<string>>) {}

  /** Starts a decision for a call with this task (undefined: no task, so no group-bound rule applies). */
  reset(task: string | undefined): void {
    this.task = task;
    this.groups = undefined;
    this.resolved = task === undefined;
  }

  /** Whether the call's task is bound to this group. */
  has(group: string): boolean {
    if (!this.resolved) {
      this.groups = this.bindings.get(this.task as string);
      this.resolved = true;
    }
    return this.groups?.has(group) === true;
  }
}

export interface LookupScope {
  readonly groups: TaskGroups;
  readonly masked: IdMask | null;
}
