import type { Collection } from 'mongodb';
import type { TenantLimitDocument } from '@jobline/libs';

export interface TenantLimit {
  tenantId: string;
  concurrency: number;
  updatedAt: Date;
  by: string | null;
}

export interface TenantLimitStore {
  /** Sets or changes the tenant's limit; returns the one it replaced, or null when the tenant had none. */
  set(input: { tenantId: string; concurrency: number; by?: string }): Promise<number | null>;
  /** Removes the tenant's limit and returns it, or null when the tenant had none. */
  remove(tenantId: string): Promise<TenantLimit | null>;
  /** In tenant order. */
  list(filter?: { tenantId?: string }): Promise<TenantLimit[]>;
}

function fromDocument({ _id, concurrency, updatedAt, by }: TenantLimitDocument): TenantLimit {
  return { tenantId: _id, concurrency, updatedAt, by: by ?? null };
}

export function createTenantLimitStore(
  collection: Collection<TenantLimitDocument>,
  options: { now?: () => Date } = {},
): TenantLimitStore {
  const now = options.now ?? (() => new Date());
  return {
    async set({ tenantId, concurrency, by }) {
      const update =
        by === undefined
          ? { $set: { concurrency, updatedAt: now() }, $unset: { by: '' as const } }
          : { $set: { concurrency, updatedAt: now(), by } };
      const before = await collection.findOneAndUpdate({ _id: tenantId }, update, {
        upsert: true,
        returnDocument: 'before',
      });
      return before?.concurrency ?? null;
    },
    async remove(tenantId) {
      const removed = await collection.findOneAndDelete({ _id: tenantId });
      return removed ? fromDocument(removed) : null;
    },
    async list(filter = {}) {
      const query = filter.tenantId === undefined ? {} : { _id: filter.tenantId };
      const docs = await collection.find(query).sort({ _id: 1 }).toArray();
      return docs.map(fromDocument);
    },
  };
}
