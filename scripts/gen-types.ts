import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadSchemas } from '../packages/schemas/src/avro-types.ts';
import { generateTypes } from '../packages/schemas/src/typegen.ts';

const target = path.resolve(import.meta.dirname, '../packages/schemas/src/generated-types.ts');
writeFileSync(target, generateTypes(loadSchemas()));
console.log(`wrote ${path.relative(process.cwd(), target)}`);
