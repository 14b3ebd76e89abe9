/**
 * `npm run bench -- <name> [args]` runs bench/<name>.ts, which prints one JSON object per line.
 * Each benchmark module exports `run(args)`.
 */
const [name, ...args] = process.argv.slice(2);
const known = [
  'engine',
  'store',
  'api',
  'ari',
  'esl',
  'bulk',
  'notify',
  'numbers',
  'isolation',
  'csv',
  'policies',
];
if (!name || !known.includes(name)) {
  console.error(`usage: npm run bench -- <${known.join('|')}> [args]`);
  process.exit(2);
}
const mod = (await import(`./${name}.ts`)) as {
  run?: (args: string[]) => Promise<void>;
  default?: (args: string[]) => Promise<void>;
};
const run = mod.run ?? mod.default;
if (!run) {
  console.error(`bench/${name}.ts exports no run(args)`);
  process.exit(2);
}
await run(args);
process.exit(0);
