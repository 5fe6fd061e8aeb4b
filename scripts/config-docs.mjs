// Writes .env.example and the README's configuration table from the config schema (src/config/config-schema.ts).
// Run through `npm run config:docs`, which builds first: this reads the compiled schema in dist/.
import { readFileSync, writeFileSync } from 'node:fs';
import { renderEnvExample, withConfigTable } from '../dist/config/config-docs.js';

writeFileSync('.env.example', renderEnvExample());
writeFileSync('README.md', withConfigTable(readFileSync('README.md', 'utf8')));
process.stdout.write('wrote .env.example and the configuration table in README.md\n');
