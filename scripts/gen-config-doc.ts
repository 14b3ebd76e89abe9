/** Writes docs/CONFIGURATION.md from the configuration schema. */
import { writeFileSync } from 'node:fs';
import { renderConfigDoc } from '../src/config-doc.js';

writeFileSync('docs/CONFIGURATION.md', renderConfigDoc());
console.log('wrote docs/CONFIGURATION.md');
