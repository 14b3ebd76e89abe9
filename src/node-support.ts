/**
 * The Node.js releases callguard runs on: 20.19 or later in the 20 line, 22.12 or later (package.json
 * `engines` says the same). Some dependencies are ES modules that other, CommonJS dependencies load
 * with require() (content-disposition under @fastify/static, cookie under light-my-request); Node.js
 * does that by default from 20.19 and 22.12, and older releases stop with ERR_REQUIRE_ESM halfway
 * through loading (docs/DECISIONS.md).
 */
export const SUPPORTED_NODE = '^20.19.0 || >=22.12.0';

/** Why this Node.js version (as in `process.versions.node`) cannot run callguard; undefined when it can. */
export function nodeVersionProblem(version: string): string | undefined {
  const [major, minor] = version.split('.').map(Number);
  const supported = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23;
  if (supported) return undefined;
  return (
    `callguard needs Node.js 20.19 or later in the 20 line, or 22.12 or later; this is ${version}. ` +
    'Its dependencies load ES modules with require(), which older releases refuse (ERR_REQUIRE_ESM).'
  );
}
