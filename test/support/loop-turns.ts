/**
 * Counts turns of the event loop while `work` runs: a spinner re-queued with setImmediate. A task that
 * never yields leaves the count near zero; one that yields between slices lets it grow per slice.
 */
export async function loopTurnsDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let spinning = true;
  const spin = () => {
    if (!spinning) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  try {
    return { result: await work(), turns };
  } finally {
    spinning = false;
  }
}
