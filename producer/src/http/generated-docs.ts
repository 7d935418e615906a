import { kafkaMessageJsonSchemas } from '@jobline/libs';
import { loadProducerConfig } from '../config';
import { buildOpenApiDocument } from './openapi';

/** Where the committed contract documents live, relative to the repository root. */
export const OPENAPI_FILE = 'docs/openapi.json';
export const EVENT_SCHEMAS_DIR = 'docs/events';

const asFile = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * The committed contract documents by path: the OpenAPI document as the producer serves it with its default
 * configuration, and the JSON Schema of every Kafka message. `npm run openapi` writes them; a unit test fails when
 * the committed copies differ.
 */
export function generatedDocs(): Map<string, string> {
  const files = new Map<string, string>();
  files.set(OPENAPI_FILE, asFile(buildOpenApiDocument({ batchMaxJobs: loadProducerConfig({}).BATCH_MAX_JOBS })));
  for (const [name, schema] of Object.entries(kafkaMessageJsonSchemas())) {
    files.set(`${EVENT_SCHEMAS_DIR}/${name}.schema.json`, asFile(schema));
  }
  return files;
}
