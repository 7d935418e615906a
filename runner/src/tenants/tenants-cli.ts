import { parseArgs } from 'node:util';
import { tenantLimitsCollection } from '@jobline/libs';
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
import { createTenantLimitStore, type TenantLimit, type TenantLimitStore } from './tenant-limit-store';
import { MAX_TENANT_CONCURRENCY, parseTenantConcurrency } from './tenant-limits';

/** `unlimit` of a tenant that has no limit in the collection exits with `EXIT_NOT_FOUND`. */
export { EXIT_FAILED, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, UsageError } from '@jobline/libs/cli';

const WITHIN = 'within RUNNER_TENANT_LIMITS_REFRESH_MS (10 s by default)';

const USAGE = `usage: npm run tenants -- <command>

  limit --tenant <tenant> --concurrency <n> [--by <who>]
      at most n (1 to ${MAX_TENANT_CONCURRENCY}) jobs of the tenant run at once in each runner process; sets or changes
      the limit, over RUNNER_TENANT_LIMITS and RUNNER_TENANT_CONCURRENCY. --by says who set it.
  unlimit --tenant <tenant>
      removes the tenant's limit: RUNNER_TENANT_LIMITS or RUNNER_TENANT_CONCURRENCY apply again
  list [--tenant <tenant>]
      tenant, concurrency, updated and by of every limit set here (not those of the runners' environment)

The runners read the limits every RUNNER_TENANT_LIMITS_REFRESH_MS (10 s by default).
MongoDB is MONGODB_URI / MONGODB_DB. Exit code: 0 done, 1 no such limit (unlimit), 2 usage, 3 failed.
`;

export type TenantsCliIo = CliIo;

export type TenantsCommand =
  | { name: 'limit'; tenantId: string; concurrency: number; by?: string }
  | { name: 'unlimit'; tenantId: string }
  | { name: 'list'; tenantId?: string }
  | { name: 'help' };

const OPTIONS = ['tenant', 'concurrency', 'by'] as const;

/** Reads the command line; throws a `UsageError` (or parseArgs' own error) saying what is wrong. */
export function parseTenantsCommand(argv: string[]): TenantsCommand {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      concurrency: { type: 'string' },
      by: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') return { name: 'help' };
  const only = (allowed: (typeof OPTIONS)[number][]) => {
    for (const option of OPTIONS) {
      if (values[option] !== undefined && !allowed.includes(option)) {
        throw new UsageError(`${command} takes no --${option}`);
      }
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
  };
  const tenant = () => {
    const tenantId = values.tenant?.trim();
    if (!tenantId) throw new UsageError(`${command} needs --tenant <tenant>`);
    return tenantId;
  };
  switch (command) {
    case 'limit': {
      only(['tenant', 'concurrency', 'by']);
      const tenantId = tenant();
      if (values.concurrency === undefined) throw new UsageError('limit needs --concurrency <n>');
      const concurrency = parseTenantConcurrency(values.concurrency);
      const by = values.by?.trim();
      if (values.by !== undefined && !by) throw new UsageError('--by needs a name');
      return by === undefined ? { name: 'limit', tenantId, concurrency } : { name: 'limit', tenantId, concurrency, by };
    }
    case 'unlimit':
      only(['tenant']);
      return { name: 'unlimit', tenantId: tenant() };
    case 'list':
      only(['tenant']);
      return values.tenant === undefined ? { name: 'list' } : { name: 'list', tenantId: tenant() };
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

function describe(limit: TenantLimit): string {
  return [limit.tenantId, limit.concurrency, limit.updatedAt.toISOString(), limit.by ?? '-'].join('\t');
}

const tenantsCli: CliProgram<Exclude<TenantsCommand, { name: 'help' }>, TenantLimitStore> = {
  name: 'tenants',
  usage: USAGE,
  parse: parseTenantsCommand,
  async run(command, store, io) {
    switch (command.name) {
      case 'limit': {
        const { tenantId, concurrency, by } = command;
        const previous = await store.set({ tenantId, concurrency, by });
        io.stdout.write(`${tenantId}: ${previous ?? 'none'} → ${concurrency}; runners apply it ${WITHIN}\n`);
        return EXIT_OK;
      }
      case 'unlimit': {
        const removed = await store.remove(command.tenantId);
        if (removed) {
          io.stdout.write(
            `${removed.tenantId}: ${removed.concurrency} → none; runners fall back to RUNNER_TENANT_LIMITS or ` +
              `RUNNER_TENANT_CONCURRENCY ${WITHIN}\n`,
          );
          return EXIT_OK;
        }
        io.stderr.write(`tenants: no limit of tenant ${command.tenantId} in tenant_limits\n`);
        return EXIT_NOT_FOUND;
      }
      case 'list': {
        const limits = await store.list({ tenantId: command.tenantId });
        io.stdout.write(['tenant\tconcurrency\tupdated\tby', ...limits.map(describe)].join('\n') + '\n');
        return EXIT_OK;
      }
      default: {
        const unknown: never = command;
        throw new Error(`unhandled command ${JSON.stringify(unknown)}`);
      }
    }
  },
};

/** Runs one command and returns the exit code; the store is opened only once the arguments are valid. */
export function runTenantsCommand(
  argv: string[],
  openStore: () => Promise<TenantLimitStore>,
  io: TenantsCliIo,
): Promise<number> {
  return runCliCommand(tenantsCli, argv, openStore, io);
}

/** `npm run tenants -- …`: connects to MongoDB, runs the command, closes. Nothing here calls `process.exit`. */
export function runTenantsCli(
  argv: string[],
  env: Env = process.env,
  io: TenantsCliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  return runMongoCli('tenants', env, io, (openDb) =>
    runTenantsCommand(argv, async () => createTenantLimitStore(tenantLimitsCollection(await openDb())), io),
  );
}

if (require.main === module) {
  void runTenantsCli(process.argv.slice(2)).then((code) => process.exit(code));
}
