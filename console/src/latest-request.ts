import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * Answers can arrive out of order: a slow unfiltered list asked before a search could land after the
 * search's answer and replace it. `begin()` marks a new request and returns a check that stays true
 * only while no newer request has begun; a page applies an answer only when it passes.
 */
export function useLatestRequest(): () => () => boolean {
  const seq = useRef(0);
  return useCallback(() => {
    const mine = ++seq.current;
    return () => mine === seq.current;
  }, []);
}

export interface Loaded<T> {
  /** The newest answer (undefined until the first one). */
  readonly value: T | undefined;
  /** Why the newest request failed, if it did. */
  readonly error: string | undefined;
  /** True once the first request has answered or failed. */
  readonly loaded: boolean;
  readonly reload: () => Promise<void>;
}

/**
 * Runs `load` now and whenever it changes (wrap it in useCallback with what it depends on), and
 * applies only the newest request's answer.
 */
export function useLoaded<T>(load: () => Promise<T>, messageOf: (e: unknown) => string): Loaded<T> {
  const [state, setState] = useState<{ value?: T; error?: string; loaded: boolean }>({ loaded: false });
  const begin = useLatestRequest();
  const reload = useCallback(async () => {
    const newest = begin();
    try {
      const value = await load();
      if (newest()) setState({ value, loaded: true });
    } catch (e) {
      if (newest()) setState((s) => ({ ...s, error: messageOf(e), loaded: true }));
    }
  }, [load, begin, messageOf]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { value: state.value, error: state.error, loaded: state.loaded, reload };
}
