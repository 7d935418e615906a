#!/usr/bin/env node
// The configuration reference (docs/configuration.md), generated from the services' zod environment schemas: the
// variables each schema holds, and the TSDoc on each (what it means, its @defaultValue). `node
// scripts/configuration-reference.cjs` writes it; test/configuration-reference.unit.test.ts fails when it is stale.
// CommonJS, so that it runs before a build and jest loads it without a transform.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const ts = require('typescript');

const ROOT = join(__dirname, '..');
const OUTPUT = 'docs/configuration.md';

/** Where each schema is declared. Each service's schema extends `InfraEnv`, the settings every service shares. */
const SHARED = { file: 'libs/src/config/infra-config.ts', schema: 'InfraEnv' };
const SERVICES = [
  { service: 'producer', file: 'producer/src/config.ts', schema: 'ProducerEnv' },
  { service: 'consumer', file: 'consumer/src/config.ts', schema: 'ConsumerEnv' },
  { service: 'runner', file: 'runner/src/config.ts', schema: 'RunnerEnv' },
];

/**
 * The variables a schema declares in its own object literal (`z.object({...})` or `InfraEnv.extend({...})`), in
 * source order, with their TSDoc; and whether it extends `InfraEnv`.
 */
function declaredVariables(file, schemaName) {
  const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  let found;
  const visit = (node) => {
    if (ts.isVariableDeclaration(node) && node.name.getText(source) === schemaName) found = node;
    else ts.forEachChild(node, visit);
  };
  visit(source);
  if (!found || !found.initializer || !ts.isCallExpression(found.initializer)) {
    throw new Error(`${file}: no schema ${schemaName} = <schema>({...})`);
  }
  const call = found.initializer;
  const literal = call.arguments.find(ts.isObjectLiteralExpression);
  if (!literal) throw new Error(`${file}: ${schemaName} has no object of variables`);
  const variables = literal.properties.filter(ts.isPropertyAssignment).map((property) => {
    const name = property.name.getText(source);
    const docs = ts.getJSDocCommentsAndTags(property).filter(ts.isJSDoc);
    const doc = docs.at(-1);
    const description = doc ? oneLine(ts.getTextOfJSDocComment(doc.comment) ?? '') : '';
    const defaultTag = doc?.tags?.find((tag) => tag.tagName.text === 'defaultValue');
    const defaultValue = defaultTag ? oneLine(ts.getTextOfJSDocComment(defaultTag.comment) ?? '') : '';
    return { name, description, defaultValue, file };
  });
  const extendsShared =
    ts.isPropertyAccessExpression(call.expression) && call.expression.getText(source) === 'InfraEnv.extend';
  return { variables, extendsShared };
}

const oneLine = (text) => text.replace(/\s+/g, ' ').trim();

/** Per service, the variables its schema holds, each with the documentation of the schema that declares it. */
function variablesByService() {
  const shared = declaredVariables(SHARED.file, SHARED.schema).variables;
  return Object.fromEntries(
    SERVICES.map(({ service, file, schema }) => {
      const own = declaredVariables(file, schema);
      const ownNames = new Set(own.variables.map((v) => v.name));
      const inherited = own.extendsShared ? shared.filter((v) => !ownNames.has(v.name)) : [];
      return [service, [...inherited, ...own.variables]];
    }),
  );
}

/** Variables without a description or a default: the reference would be incomplete. */
function undocumented(byService) {
  const all = [
    ...new Map(
      Object.values(byService)
        .flat()
        .map((v) => [`${v.file}:${v.name}`, v]),
    ).values(),
  ];
  return all
    .filter((v) => v.description === '' || v.defaultValue === '')
    .map((v) => `${v.name} (${v.file}): ${v.description === '' ? 'no description' : 'no @defaultValue'}`);
}

const escapeCell = (text) => text.replace(/\|/g, '\\|');

/** The Markdown of the reference: one row per variable, or per variable and meaning where services differ. */
function render(byService) {
  const rows = new Map();
  for (const [service, variables] of Object.entries(byService)) {
    for (const v of variables) {
      const key = `${v.name}\u0000${v.description}\u0000${v.defaultValue}`;
      const row = rows.get(key) ?? { ...v, services: [] };
      row.services.push(service);
      rows.set(key, row);
    }
  }
  const table = [['variable', 'services', 'default', 'meaning']];
  for (const row of rows.values()) {
    const services = row.services.length === SERVICES.length ? 'all' : row.services.join(', ');
    table.push([`\`${row.name}\``, services, escapeCell(row.defaultValue), escapeCell(row.description)]);
  }
  // Aligned as Prettier aligns Markdown tables, so that the generated file is also formatted.
  const widths = table[0].map((_, column) => Math.max(3, ...table.map((cells) => cells[column].length)));
  const line = (cells) => `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(' | ')} |`;
  const lines = [
    '# Configuration',
    '',
    "<!-- Generated from the services' zod environment schemas by `node scripts/configuration-reference.cjs`; edit",
    'the TSDoc in those schemas, not this file. -->',
    '',
    'Every setting is an environment variable, read and checked when a service starts: a bad value stops it with a',
    'message naming the variable. An empty value counts as unset. The defaults point at the local stack',
    '(`npm run stack -- start`), so that nothing needs setting on a development machine.',
    '',
    line(table[0]),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...table.slice(1).map(line),
  ];
  return `${lines.join('\n')}\n`;
}

/** The reference as it is committed. */
async function configurationReference() {
  const byService = variablesByService();
  const missing = undocumented(byService);
  if (missing.length > 0) throw new Error(`undocumented configuration:\n  ${missing.join('\n  ')}`);
  return render(byService);
}

module.exports = { OUTPUT, SERVICES, configurationReference, variablesByService };

if (require.main === module) {
  configurationReference().then(
    (text) => {
      writeFileSync(join(ROOT, OUTPUT), text);
      process.stdout.write(`wrote ${OUTPUT}\n`);
    },
    (err) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
