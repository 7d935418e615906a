/** The highest limit a tenant may be given, as for `RUNNER_CONCURRENCY`. */
export const MAX_TENANT_CONCURRENCY = 10_000;

/** Tenant ids to the number of their jobs one runner process may run at once. */
export type TenantLimits = Readonly<Record<string, number>>;

/** One tenant whose limit differs between two maps; `null` is no limit of its own (the default applies). */
export interface TenantLimitChange {
  tenantId: string;
  from: number | null;
  to: number | null;
}

export function isTenantConcurrency(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_TENANT_CONCURRENCY;
}

/** Reads a limit typed by an operator: a whole number from 1 to 10,000. */
export function parseTenantConcurrency(value: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!isTenantConcurrency(n)) {
    throw new Error(`expected a concurrency from 1 to ${MAX_TENANT_CONCURRENCY}, got "${value}"`);
  }
  return n;
}

/**
 * The limits a runner applies: those of `RUNNER_TENANT_LIMITS`, with the collection's over them (an operator's
 * `npm run tenants -- limit` is newer than the runner's environment).
 */
export function mergeTenantLimits(fromEnv: TenantLimits, fromCollection: TenantLimits): TenantLimits {
  return { ...fromEnv, ...fromCollection };
}

/** The tenants whose limit differs, in tenant order; empty when the two maps say the same. */
export function tenantLimitChanges(before: TenantLimits, after: TenantLimits): TenantLimitChange[] {
  const tenants = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return tenants
    .map((tenantId) => ({ tenantId, from: limitOf(before, tenantId), to: limitOf(after, tenantId) }))
    .filter(({ from, to }) => from !== to);
}

// Own properties only: a tenant may be called `constructor`.
const limitOf = (limits: TenantLimits, tenantId: string) =>
  Object.hasOwn(limits, tenantId) ? limits[tenantId]! : null;

/** `acme 4 → 8, batch 2 → default`, for logs and the CLI. */
export function describeTenantLimitChanges(changes: readonly TenantLimitChange[]): string {
  const limit = (n: number | null) => (n === null ? 'default' : String(n));
  return changes.map(({ tenantId, from, to }) => `${tenantId} ${limit(from)} → ${limit(to)}`).join(', ');
}
