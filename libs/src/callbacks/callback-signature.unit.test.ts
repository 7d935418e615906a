import { signCallback, tenantCallbackSecret, verifyCallbackSignature } from './callback-signature';

describe('callback signatures', () => {
  const secret = tenantCallbackSecret('deployment-key', 'acme');
  const body = JSON.stringify({ id: 'job-1', status: 'completed' });

  it('derives a distinct, stable secret per tenant and key', () => {
    expect(tenantCallbackSecret('deployment-key', 'acme')).toBe(secret);
    expect(tenantCallbackSecret('deployment-key', 'globex')).not.toBe(secret);
    expect(tenantCallbackSecret('other-key', 'acme')).not.toBe(secret);
  });

  it('verifies what it signed', () => {
    expect(verifyCallbackSignature(secret, signCallback(secret, 1_700_000_000, body), body, 1_700_000_010)).toEqual({
      ok: true,
      timestamp: 1_700_000_000,
    });
  });

  it.each([
    ['another body', signCallback(secret, 1_700_000_000, body), `${body} `, 1_700_000_000, 'signature mismatch'],
    ['another secret', signCallback('x', 1_700_000_000, body), body, 1_700_000_000, 'signature mismatch'],
    [
      'a shifted timestamp',
      signCallback(secret, 1_700_000_000, body).replace('t=1700000000', 't=1700000001'),
      body,
      1_700_000_000,
      'signature mismatch',
    ],
    ['an old signature', signCallback(secret, 1_700_000_000, body), body, 1_700_000_301, 'signature too old'],
    ['no header', undefined, body, 1_700_000_000, 'no signature'],
    ['garbage', 't=abc,v1=zz', body, 1_700_000_000, 'malformed signature'],
  ])('refuses %s', (_case, header, received, now, reason) => {
    expect(verifyCallbackSignature(secret, header, received, now)).toEqual({ ok: false, reason });
  });
});
