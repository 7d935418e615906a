import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Stops containers the set-up started. The local stack stays up for the next run (`npm run stack -- stop`). */
export default async function globalTeardown(): Promise<void> {
  const file = join(__dirname, '..', '.stack-test-containers.json');
  if (!existsSync(file)) return;
  const ids = JSON.parse(readFileSync(file, 'utf8')) as string[];
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  await Promise.all(ids.map((id) => client.container.stop(client.container.getById(id), { timeout: 10 })));
  await Promise.all(ids.map((id) => client.container.remove(client.container.getById(id), { removeVolumes: true })));
  rmSync(file);
}
