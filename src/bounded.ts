/**
 * Waits for `work` at most `ms`: true when it settled in time, false when the time ran out (the work
 * goes on unobserved; its later failure is swallowed). A failure in time is thrown. For shutdown
 * steps that talk to something that may not answer (Redis away, a peer that hangs).
 */
export async function withinMs(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}
