import { useCallback, useRef } from 'preact/hooks';

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
