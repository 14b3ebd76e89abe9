/** Resolves once `lastActivity()` is at least quietMs in the past, or after maxWaitMs in any case. */
export async function waitUntilQuiet(
  lastActivity: () => number,
  quietMs: number,
  maxWaitMs: number,
): Promise<void> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const now = Date.now();
    const quietFor = now - lastActivity();
    if (quietFor >= quietMs || now >= deadline) return;
    await new Promise((r) => setTimeout(r, Math.min(quietMs - quietFor, deadline - now)));
  }
}
