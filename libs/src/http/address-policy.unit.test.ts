import { JoblineError } from '../errors/jobline-error';
import {
  blockedAddressReason,
  checkOutboundAddress,
  EMPTY_OUTBOUND_ALLOW_LIST,
  isTrustedHostname,
  parseOutboundAllowList,
  type BlockedReason,
} from './address-policy';

describe('blockedAddressReason', () => {
  it.each<[string, BlockedReason]>([
    ['127.0.0.1', 'loopback'],
    ['127.1.2.3', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['169.254.1.1', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.254', 'carrierGradeNat'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fec0::1', 'siteLocal'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['203.0.113.7', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001:2::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['100::1', 'reserved'],
    ['::7f00:1', 'loopback'],
    ['::ffff:0:a00:1', 'private'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b:1::1', 'reserved'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['not-an-address', 'invalid'],
    ['1.2.3', 'invalid'],
  ])('blocks %s as %s', (address, reason) => {
    expect(blockedAddressReason(address)?.reason).toBe(reason);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '2a00:1450:4001:82b::200e',
    '::ffff:93.184.216.34',
    '64:ff9b::5db8:d822',
    '2002:5db8:d822::1',
  ])('allows the public address %s', (address) => {
    expect(blockedAddressReason(address)).toBeUndefined();
  });

  it('names the IPv4 address an IPv6 form carries', () => {
    expect(blockedAddressReason('::ffff:127.0.0.1')).toEqual({ reason: 'loopback', embeddedIpv4: '127.0.0.1' });
  });
});

describe('checkOutboundAddress', () => {
  it('explains a refusal in words', () => {
    expect(checkOutboundAddress('127.0.0.1', EMPTY_OUTBOUND_ALLOW_LIST)).toEqual({
      allowed: false,
      reason: 'loopback',
      message: '127.0.0.1 is a loopback address',
    });
    expect(checkOutboundAddress('::ffff:10.1.2.3', EMPTY_OUTBOUND_ALLOW_LIST)).toMatchObject({
      reason: 'private',
      message: '::ffff:10.1.2.3 is a private address (it carries IPv4 10.1.2.3)',
    });
  });

  it('allows blocked addresses inside an allow-listed CIDR, and only those', () => {
    const allowList = parseOutboundAllowList('127.0.0.1/32,10.20.0.0/16,::1/128');

    expect(checkOutboundAddress('127.0.0.1', allowList).allowed).toBe(true);
    expect(checkOutboundAddress('::ffff:127.0.0.1', allowList).allowed).toBe(true);
    expect(checkOutboundAddress('::1', allowList).allowed).toBe(true);
    expect(checkOutboundAddress('10.20.3.4', allowList).allowed).toBe(true);
    expect(checkOutboundAddress('127.0.0.2', allowList)).toMatchObject({ allowed: false, reason: 'loopback' });
    expect(checkOutboundAddress('10.21.0.1', allowList)).toMatchObject({ allowed: false, reason: 'private' });
    expect(checkOutboundAddress('93.184.216.34', allowList).allowed).toBe(true);
  });

  it('keeps metadata addresses blocked by a broad CIDR, but not by an exact entry', () => {
    expect(checkOutboundAddress('169.254.169.254', parseOutboundAllowList('169.254.0.0/16')).allowed).toBe(false);
    expect(checkOutboundAddress('169.254.169.254', parseOutboundAllowList('0.0.0.0/0')).allowed).toBe(false);
    expect(checkOutboundAddress('169.254.1.1', parseOutboundAllowList('169.254.0.0/16')).allowed).toBe(true);
    expect(checkOutboundAddress('169.254.169.254', parseOutboundAllowList('169.254.169.254')).allowed).toBe(true);
  });

  it('trusts an allow-listed hostname whatever it resolves to', () => {
    const allowList = parseOutboundAllowList('hooks.internal.example');

    expect(checkOutboundAddress('10.0.0.1', allowList, 'hooks.internal.example').allowed).toBe(true);
    expect(checkOutboundAddress('10.0.0.1', allowList, 'HOOKS.internal.example.').allowed).toBe(true);
    expect(checkOutboundAddress('10.0.0.1', allowList, 'other.internal.example').allowed).toBe(false);
    expect(checkOutboundAddress('10.0.0.1', allowList).allowed).toBe(false);
  });
});

describe('parseOutboundAllowList', () => {
  it('reads CIDRs, single addresses and hostnames, ignoring blanks', () => {
    const allowList = parseOutboundAllowList(' 127.0.0.1/32, ::1/128 ,,Hooks.Internal.Example, 10.0.0.5, fd00::/8 ');

    expect(allowList.entries).toEqual(['127.0.0.1/32', '::1/128', 'hooks.internal.example', '10.0.0.5', 'fd00::/8']);
    expect(allowList.hostnames).toEqual(['hooks.internal.example']);
    expect(allowList.cidrs.map(([ip, prefix]) => `${ip.toString()}/${prefix}`)).toEqual([
      '127.0.0.1/32',
      '::1/128',
      '10.0.0.5/32',
      'fd00::/8',
    ]);
    expect(isTrustedHostname('hooks.internal.example', allowList)).toBe(true);
  });

  it.each(['', '  ', ',,'])('reads %j as an empty allow-list', (text) => {
    expect(parseOutboundAllowList(text)).toEqual(EMPTY_OUTBOUND_ALLOW_LIST);
  });

  it.each([
    '10.0.0.0/33',
    '::1/129',
    '10.0.0.0/',
    '10.0.0.0/8/8',
    '10.0.0.0/x',
    '010.0.0.1',
    '1.2.3',
    '0x7f.1',
    '*.example.com',
    'http://hooks.example.com',
    'hooks.example.com/path',
    'under score-.example',
  ])('rejects %j naming the entry', (entry) => {
    const parse = () => parseOutboundAllowList(`127.0.0.1/32,${entry}`);

    expect(parse).toThrow(JoblineError);
    expect(parse).toThrow(`invalid outbound allow-list entry "${entry}"`);
  });
});
