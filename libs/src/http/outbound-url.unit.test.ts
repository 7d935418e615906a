import { parseOutboundAllowList } from './address-policy';
import { checkOutboundUrl } from './outbound-url';

describe('checkOutboundUrl', () => {
  it.each(['https://hooks.example.com/jobs?token=x', 'http://93.184.216.34:8080/', 'https://[2606:4700::1111]/'])(
    'accepts %s',
    (url) => {
      const check = checkOutboundUrl(url);

      expect(check.ok).toBe(true);
      expect(check.ok && check.url.href).toBe(new URL(url).href);
    },
  );

  it.each([
    ['not a url', 'malformed'],
    ['/relative/path', 'malformed'],
    ['ftp://files.example.com/x', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['gopher://example.com/', 'scheme'],
    ['https://user:secret@hooks.example.com/', 'credentials'],
    ['https://user@hooks.example.com/', 'credentials'],
  ])('refuses %s as OUTBOUND_URL_INVALID (%s)', (url, problem) => {
    expect(checkOutboundUrl(url)).toMatchObject({ ok: false, code: 'OUTBOUND_URL_INVALID', problem });
  });

  it.each([
    ['http://127.0.0.1:8080/', 'loopback'],
    ['http://2130706433/', 'loopback'],
    ['http://0x7f.1/', 'loopback'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:127.0.0.1]/', 'loopback'],
    ['http://10.0.0.1/', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'metadata'],
    ['http://[fd00:ec2::254]/', 'metadata'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://localhost:3000/', 'loopback'],
    ['http://LOCALHOST./', 'loopback'],
    ['http://api.localhost/', 'loopback'],
  ])('refuses %s as OUTBOUND_ADDRESS_BLOCKED (%s), without DNS', (url, problem) => {
    expect(checkOutboundUrl(url)).toMatchObject({ ok: false, code: 'OUTBOUND_ADDRESS_BLOCKED', problem });
  });

  it('names the host, never the rest of the URL', () => {
    const check = checkOutboundUrl('http://10.0.0.1/hook?secret=s3cr3t');

    expect(check).toMatchObject({ ok: false, message: '10.0.0.1 is a private address' });
  });

  it('lets the allow-list admit literals and localhost names', () => {
    const loopback = parseOutboundAllowList('127.0.0.1/32');

    expect(checkOutboundUrl('http://127.0.0.1:8080/', loopback).ok).toBe(true);
    expect(checkOutboundUrl('http://localhost:8080/', loopback).ok).toBe(true);
    expect(checkOutboundUrl('http://127.0.0.2/', loopback).ok).toBe(false);
    expect(checkOutboundUrl('http://localhost/', parseOutboundAllowList('localhost')).ok).toBe(true);
    expect(checkOutboundUrl('http://api.localhost/', parseOutboundAllowList('localhost')).ok).toBe(false);
  });
});
