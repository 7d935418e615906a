// Writes docs/openapi.json and docs/events/*.schema.json from the compiled zod schemas (run after `tsc -b`).
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { EVENT_SCHEMAS_DIR, generatedDocs } = createRequire(import.meta.url)('../producer/dist/http/generated-docs.js');

const files = generatedDocs();
// A schema of a message that no longer exists must not linger.
mkdirSync(join(root, EVENT_SCHEMAS_DIR), { recursive: true });
for (const name of readdirSync(join(root, EVENT_SCHEMAS_DIR))) {
  if (!files.has(`${EVENT_SCHEMAS_DIR}/${name}`)) rmSync(join(root, EVENT_SCHEMAS_DIR, name));
}
for (const [path, content] of files) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
  process.stdout.write(`wrote ${path}\n`);
}
