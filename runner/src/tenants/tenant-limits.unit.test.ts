import {
  describeTenantLimitChanges,
  mergeTenantLimits,
  parseTenantConcurrency,
  tenantLimitChanges,
} from './tenant-limits';

describe('parseTenantConcurrency', () => {
  it.each([
    ['1', 1],
    ['8', 8],
    [' 16 ', 16],
    ['10000', 10_000],
  ])('reads %j', (value, n) => {
    expect(parseTenantConcurrency(value)).toBe(n);
  });

  it.each(['', '0', '-1', '1.5', '10001', '1e3', '0x10', 'eight', '8 jobs'])('refuses %j', (value) => {
    expect(() => parseTenantConcurrency(value)).toThrow(`expected a concurrency from 1 to 10000, got "${value}"`);
  });
});

describe('mergeTenantLimits', () => {
  it('lays the collection over the environment: it wins for the tenants it names, the others keep theirs', () => {
    expect(mergeTenantLimits({ acme: 4, batch: 1 }, { acme: 8, globex: 2 })).toEqual({ acme: 8, batch: 1, globex: 2 });
  });

  it('is the environment alone when the collection is empty, and the collection alone without environment', () => {
    expect(mergeTenantLimits({ acme: 4 }, {})).toEqual({ acme: 4 });
    expect(mergeTenantLimits({}, { acme: 8 })).toEqual({ acme: 8 });
  });
});

describe('tenantLimitChanges', () => {
  it('names each tenant whose limit was set, changed or removed, in tenant order', () => {
    const changes = tenantLimitChanges({ batch: 1, acme: 4, same: 3 }, { acme: 8, same: 3, globex: 2 });
    expect(changes).toEqual([
      { tenantId: 'acme', from: 4, to: 8 },
      { tenantId: 'batch', from: 1, to: null },
      { tenantId: 'globex', from: null, to: 2 },
    ]);
    expect(describeTenantLimitChanges(changes)).toBe('acme 4 → 8, batch 1 → default, globex default → 2');
  });

  it('is empty when the limits are the same, whatever their order', () => {
    expect(tenantLimitChanges({ acme: 4, batch: 1 }, { batch: 1, acme: 4 })).toEqual([]);
  });

  it('looks at own limits only, for tenants named like properties of every object', () => {
    expect(tenantLimitChanges({}, { constructor: 2 })).toEqual([{ tenantId: 'constructor', from: null, to: 2 }]);
    expect(tenantLimitChanges({ toString: 2 }, {})).toEqual([{ tenantId: 'toString', from: 2, to: null }]);
  });
});
