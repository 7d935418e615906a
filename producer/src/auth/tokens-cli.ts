import { parseArgs } from 'node:util';
import { InfraEnv, connectMongo, loadConfig, type Env, type MongoConnection } from '@jobline/libs';
import {
  apiTokensCollection,
  createTokenStore,
  ensureTokenIndexes,
  formatRate,
  parseRate,
  type ApiToken,
  type TokenStore,
} from './tokens';

export const EXIT_OK = 0;
/** `revoke` of a token that does not exist or is already revoked. */
export const EXIT_NOT_FOUND = 1;
export const EXIT_USAGE = 2;
/** MongoDB failed. */
export const EXIT_FAILED = 3;

const USAGE = `usage: npm run tokens -- <command>

  create --tenant <tenant> [--name <name>] [--rate <n>/s | <n>/min]
      creates an API token and prints it once; only its SHA-256 is stored. --rate overrides
      RATE_LIMIT_PER_MINUTE for this token (a bare number is per minute).
  list [--tenant <tenant>]
      id, tenant, name, created, revoked and rate of every token (never the token itself)
  revoke <id>
      the producers refuse the token within 30 seconds (their lookup cache)

MongoDB is MONGODB_URI / MONGODB_DB. Exit code: 0 done, 1 no such live token (revoke), 2 usage, 3 failed.
`;

export interface TokensCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

type Command =
  | { name: 'create'; tenantId: string; tokenName?: string; rate?: string }
  | { name: 'list'; tenantId?: string }
  | { name: 'revoke'; id: string }
  | { name: 'help' };

class UsageError extends Error {}

function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      name: { type: 'string' },
      rate: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') return { name: 'help' };
  const noMore = (allowed: (keyof typeof values)[]) => {
    for (const option of ['tenant', 'name', 'rate'] as const) {
      if (values[option] !== undefined && !allowed.includes(option)) {
        throw new UsageError(`${command} takes no --${option}`);
      }
    }
  };
  switch (command) {
    case 'create':
      noMore(['tenant', 'name', 'rate']);
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      if (!values.tenant?.trim()) throw new UsageError('create needs --tenant <tenant>');
      return { name: 'create', tenantId: values.tenant.trim(), tokenName: values.name, rate: values.rate };
    case 'list':
      noMore(['tenant']);
      if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
      return { name: 'list', tenantId: values.tenant };
    case 'revoke':
      noMore([]);
      if (rest.length !== 1) throw new UsageError('revoke needs exactly one token id');
      return { name: 'revoke', id: rest[0]! };
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

function describe(token: ApiToken): string {
  return [
    token.id,
    token.tenantId,
    token.name ?? '-',
    token.createdAt.toISOString(),
    token.revokedAt ? `revoked ${token.revokedAt.toISOString()}` : 'active',
    token.rateLimit ? formatRate(token.rateLimit) : 'default',
  ].join('\t');
}

/** Runs one command and returns the exit code; the store is opened only once the arguments are valid. */
export async function runTokensCommand(
  argv: string[],
  openStore: () => Promise<TokenStore>,
  io: TokensCliIo,
): Promise<number> {
  let command: Command;
  let rateLimit;
  try {
    command = parseCommand(argv);
    if (command.name === 'create' && command.rate !== undefined) rateLimit = parseRate(command.rate);
  } catch (err) {
    io.stderr.write(`tokens: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (command.name === 'help') {
    io.stdout.write(USAGE);
    return EXIT_OK;
  }
  const store = await openStore();
  switch (command.name) {
    case 'create': {
      const { token, apiToken } = await store.create({
        tenantId: command.tenantId,
        name: command.tokenName,
        rateLimit,
      });
      io.stdout.write(`${describe(apiToken)}\n`);
      io.stdout.write(`token: ${token}\n(shown once: only its hash is stored)\n`);
      return EXIT_OK;
    }
    case 'list': {
      const tokens = await store.list({ tenantId: command.tenantId });
      io.stdout.write(['id\ttenant\tname\tcreated\tstatus\trate', ...tokens.map(describe)].join('\n') + '\n');
      return EXIT_OK;
    }
    case 'revoke': {
      if (await store.revoke(command.id)) {
        io.stdout.write(`revoked ${command.id}; producers refuse it within 30 s\n`);
        return EXIT_OK;
      }
      io.stderr.write(`tokens: no active token ${command.id}\n`);
      return EXIT_NOT_FOUND;
    }
    default: {
      const unknown: never = command;
      throw new Error(`unhandled command ${JSON.stringify(unknown)}`);
    }
  }
}

/** `npm run tokens -- …`: connects to MongoDB, runs the command, closes. Nothing here calls `process.exit`. */
export async function runTokensCli(
  argv: string[],
  env: Env = process.env,
  io: TokensCliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let mongo: MongoConnection | undefined;
  try {
    return await runTokensCommand(
      argv,
      async () => {
        const config = loadConfig(InfraEnv.pick({ MONGODB_URI: true, MONGODB_DB: true }), env);
        mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
        const collection = apiTokensCollection(mongo.db);
        await ensureTokenIndexes(collection);
        return createTokenStore(collection);
      },
      io,
    );
  } catch (err) {
    io.stderr.write(`tokens: ${(err as Error).message}\n`);
    return EXIT_FAILED;
  } finally {
    await mongo?.client.close();
  }
}

if (require.main === module) {
  void runTokensCli(process.argv.slice(2)).then((code) => process.exit(code));
}
