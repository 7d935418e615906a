import type { Collection, Db } from 'mongodb';

/**
 * `tenant_limits`: an operator's cap on one tenant's running jobs, one document per tenant (`_id` is the tenant id),
 * managed with `npm run tenants`. Every runner process applies it to itself, over `RUNNER_TENANT_LIMITS`.
 */
export interface TenantLimitDocument {
  _id: string;
  /** Jobs of the tenant running at once in one runner process, 1 to 10,000. */
  concurrency: number;
  updatedAt: Date;
  /** Who set it, when the operator said so. */
  by?: string;
}

export function tenantLimitsCollection(db: Db): Collection<TenantLimitDocument> {
  return db.collection<TenantLimitDocument>('tenant_limits');
}
