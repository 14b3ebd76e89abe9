import { nodeVersionProblem } from '../node-support.js';

// Imported first by the CLI: on a Node.js release that cannot run callguard, one clear line and exit
// code 1, before any dependency fails to load with a stack trace.
const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
