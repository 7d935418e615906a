import type { Db } from 'mongodb';
import { InfraEnv } from '../config/infra-config';
import { loadConfig, type Env } from '../config/load-config';
import { connectMongo, type MongoConnection } from '../mongo/mongo-client';
import { EXIT_FAILED, type CliIo } from './cli-command';

/**
 * Runs an administration command over MongoDB (MONGODB_URI / MONGODB_DB from `env`): `run` connects through
 * `openDb` only if it needs to, and the connection is closed whatever happens. A failure, of the configuration,
 * MongoDB or the command, is printed after the program's name and answered with `EXIT_FAILED`; nothing here calls
 * `process.exit`.
 */
export async function runMongoCli(
  programName: string,
  env: Env,
  io: CliIo,
  run: (openDb: () => Promise<Db>) => Promise<number>,
): Promise<number> {
  let mongo: MongoConnection | undefined;
  try {
    return await run(async () => {
      const config = loadConfig(InfraEnv.pick({ MONGODB_URI: true, MONGODB_DB: true }), env);
      mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
      return mongo.db;
    });
  } catch (err) {
    io.stderr.write(`${programName}: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    await mongo?.client.close();
  }
}
