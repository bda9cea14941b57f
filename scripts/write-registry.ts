import { writeFileSync } from 'node:fs';
import { registryJson } from './registry-json.ts';

writeFileSync('registry.json', registryJson('.'));
console.log('wrote registry.json');
