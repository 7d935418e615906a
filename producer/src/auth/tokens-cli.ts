import { parseArgs } from 'node:util';
import {
  EXIT_NOT_FOUND,
  EXIT_OK,
  UsageError,
  runCliCommand,
  runMongoCli,
  type CliIo,
  type CliProgram,
} from '@jobline/libs/cli';
import type { Env } from '@jobline/libs/config';
import {
  apiTokensCollection,
  createTokenStore,
  ensureTokenIndexes,
  formatRate,
  parseRate,
  type ApiToken,
  type RateLimit,
  type TokenStore,
} from './tokens';

/** `revoke` of a token that does not exist or is already revoked exits with `EXIT_NOT_FOUND`. */
export { EXIT_FAILED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE } from '@jobline/libs/cli';

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

export type TokensCliIo = CliIo;

type Command =
  | { name: 'create'; tenantId: string; tokenName?: string; rateLimit?: RateLimit }
  | { name: 'list'; tenantId?: string }
  | { name: 'revoke'; id: string };

function parseCommand(argv: string[]): Command | { name: 'help' } {
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
      return {
        name: 'create',
        tenantId: values.tenant.trim(),
        tokenName: values.name,
        rateLimit: values.rate === undefined ? undefined : parseRate(values.rate),
      };
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

const tokensCli: CliProgram<Command, TokenStore> = {
  name: 'tokens',
  usage: USAGE,
  parse: parseCommand,
  async run(command, store, io) {
    switch (command.name) {
      case 'create': {
        const { token, apiToken } = await store.create({
          tenantId: command.tenantId,
          name: command.tokenName,
          rateLimit: command.rateLimit,
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
  },
};

/** Runs one command and returns the exit code; the store is opened only once the arguments are valid. */
export function runTokensCommand(
  argv: string[],
  openStore: () => Promise<TokenStore>,
  io: TokensCliIo,
): Promise<number> {
  return runCliCommand(tokensCli, argv, openStore, io);
}

/** `npm run tokens -- …`: connects to MongoDB, runs the command, closes. Nothing here calls `process.exit`. */
export function runTokensCli(
  argv: string[],
  env: Env = process.env,
  io: TokensCliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  return runMongoCli('tokens', env, io, (openDb) =>
    runTokensCommand(
      argv,
      async () => {
        const collection = apiTokensCollection(await openDb());
        await ensureTokenIndexes(collection);
        return createTokenStore(collection);
      },
      io,
    ),
  );
}

if (require.main === module) {
  void runTokensCli(process.argv.slice(2)).then((code) => process.exit(code));
}
