import type { ContactPolicy } from '../domain/contact-policy.js';

/** A tenant's contact policies and which outbound tasks they bind, as a call node holds them. */
export class TaskPolicies {
  static readonly EMPTY = new TaskPolicies(new Map(), new Map());

  private readonly byTask = new Map<string, readonly ContactPolicy[]>();

  constructor(
    readonly policies: ReadonlyMap<string, ContactPolicy>,
    /** task → policy ids, in the order they were bound. */
    readonly bindings: ReadonlyMap<string, readonly string[]>,
  ) {
    for (const [task, ids] of bindings) {
      const bound = ids.flatMap((id) => policies.get(id) ?? []);
      if (bound.length > 0) this.byTask.set(task, bound);
    }
  }

  get empty(): boolean {
    return this.byTask.size === 0;
  }

  /** The policies a task's calls are checked against (a bound id with no policy is skipped). */
  of(task: string | undefined): readonly ContactPolicy[] | undefined {
    return task === undefined ? undefined : this.byTask.get(task);
  }

  withPolicy(id: string, policy: ContactPolicy | null): TaskPolicies {
    const next = new Map(this.policies);
    if (policy) next.set(id, policy);
    else next.delete(id);
    return new TaskPolicies(next, this.bindings);
  }

  withBinding(task: string, ids: readonly string[]): TaskPolicies {
    const next = new Map(this.bindings);
    if (ids.length > 0) next.set(task, ids);
    else next.delete(task);
    return new TaskPolicies(this.policies, next);
  }
}
