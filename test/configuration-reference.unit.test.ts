import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsumerEnv } from '../consumer/src/config';
import { ProducerEnv } from '../producer/src/config';
import { RunnerEnv } from '../runner/src/config';
import { OUTPUT, configurationReference, variablesByService } from '../scripts/configuration-reference.cjs';

const REGENERATE = 'run `node scripts/configuration-reference.cjs` and commit docs/configuration.md';

describe('the configuration reference', () => {
  it('lists, per service, exactly the variables its environment schema reads', () => {
    const documented = variablesByService();
    const schemas = { producer: ProducerEnv, consumer: ConsumerEnv, runner: RunnerEnv };

    for (const [service, schema] of Object.entries(schemas)) {
      expect([service, documented[service]!.map((v) => v.name).sort()]).toEqual([
        service,
        Object.keys(schema.shape).sort(),
      ]);
    }
  });

  it('is committed as the schemas generate it', async () => {
    const generated = await configurationReference();
    let committed: string;
    try {
      committed = readFileSync(join(__dirname, '..', OUTPUT), 'utf8');
    } catch {
      throw new Error(`${OUTPUT} is missing; ${REGENERATE}`);
    }
    if (committed !== generated) throw new Error(`${OUTPUT} differs from what the schemas generate; ${REGENERATE}`);
  });
});
