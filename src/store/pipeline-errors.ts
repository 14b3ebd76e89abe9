/** The replies of a pipeline's exec(): throws the first command error, or when the pipeline was discarded. */
export function throwPipelineErrors(results: Array<[Error | null, unknown]> | null): void {
  if (!results) throw new Error('pipeline was discarded');
  for (const [err] of results) if (err) throw err;
}
