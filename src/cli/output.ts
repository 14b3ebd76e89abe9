/** The CLI's only way to the terminal (the house rule is no console.*): data on stdout, messages on stderr. */
export const out = (text: string): void => {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
};
export const err = (text: string): void => {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
};

/** Exit codes: 0 done; 1 failed; 2 bad usage; 3 done, but some input rows were bad (reported on stderr). */
export const EXIT = { ok: 0, failed: 1, usage: 2, badRows: 3 } as const;

export class UsageError extends Error {}
