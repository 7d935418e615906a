import ipaddr from 'ipaddr.js';
import { JoblineError } from '../errors/jobline-error';

type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [IpAddress, number];

/** Why an address may not be the target of an outbound request. */
export const BLOCKED_REASONS = [
  'unspecified',
  'loopback',
  'private',
  'linkLocal',
  'carrierGradeNat',
  'uniqueLocal',
  'siteLocal',
  'multicast',
  'broadcast',
  'reserved',
  'metadata',
  'invalid',
] as const;
export type BlockedReason = (typeof BLOCKED_REASONS)[number];

const REASON_PHRASES: Record<BlockedReason, string> = {
  unspecified: 'an unspecified address',
  loopback: 'a loopback address',
  private: 'a private address',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a carrier-grade NAT address',
  uniqueLocal: 'a unique-local address',
  siteLocal: 'a site-local address',
  multicast: 'a multicast address',
  broadcast: 'the broadcast address',
  reserved: 'a reserved address',
  metadata: 'a cloud metadata address',
  invalid: 'not an IP address',
};

/**
 * Instance metadata and platform endpoints: the classic SSRF prize (cloud credentials). Most sit in ranges that are
 * blocked anyway; 168.63.129.16 (Azure's WireServer) is in public space. They stay blocked even inside an allow-listed
 * CIDR, so that `169.254.0.0/16` or `0.0.0.0/0` in the allow-list does not open them; only an entry naming exactly
 * the address does.
 */
const METADATA_ADDRESSES = [
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  '168.63.129.16', // Azure WireServer
  'fd00:ec2::254', // AWS IMDS over IPv6
].map((text) => ipaddr.parse(text));

const IPV4_REASONS: Readonly<Record<string, BlockedReason>> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'linkLocal',
  loopback: 'loopback',
  carrierGradeNat: 'carrierGradeNat',
  private: 'private',
  // Documentation, benchmarking (198.18/15), 192.0.0/24 protocol assignments and the 240/4 future-use block.
  reserved: 'reserved',
};

const NAT64_WELL_KNOWN: Cidr = ipaddr.parseCIDR('64:ff9b::/96');
const GLOBAL_UNICAST_V6: Cidr = ipaddr.parseCIDR('2000::/3');

/** What classifying one address found; `embeddedIpv4` is set when the verdict came from an IPv4 inside IPv6. */
export interface BlockedAddress {
  reason: BlockedReason;
  embeddedIpv4?: string;
}

/**
 * Why `address` may not be connected to, or undefined when it is an ordinary public address. Pure: no DNS. IPv6
 * forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, SIIT, NAT64 `64:ff9b::/96`,
 * 6to4 `2002::/16`) are judged by that IPv4 address, because the kernel or a translator delivers them to it.
 */
export function blockedAddressReason(address: string): BlockedAddress | undefined {
  const ip = parseAddress(address);
  if (!ip) return { reason: 'invalid' };
  return classify(ip);
}

function classify(ip: IpAddress): BlockedAddress | undefined {
  if (isMetadata(ip)) return { reason: 'metadata' };
  if (ip.kind() === 'ipv4') {
    const reason = IPV4_REASONS[(ip as ipaddr.IPv4).range()];
    return reason ? { reason } : undefined;
  }
  const v6 = ip as ipaddr.IPv6;
  // ipaddr.js knows more ranges than its type declarations list.
  const range: string = v6.range();
  switch (range) {
    case 'unspecified':
    case 'loopback':
    case 'linkLocal':
    case 'multicast':
    case 'uniqueLocal':
      return { reason: range as BlockedReason };
    case 'ipv4Mapped':
    case 'rfc6145':
      return classifyEmbedded(lastIpv4(v6));
    case 'rfc6052':
      // Only the well-known /96 prefix says where the IPv4 address sits; the local-use 64:ff9b:1::/48 leads into
      // whatever network the operator translates to.
      return v6.match(NAT64_WELL_KNOWN) ? classifyEmbedded(lastIpv4(v6)) : { reason: 'reserved' };
    case '6to4':
      return classifyEmbedded(
        new ipaddr.IPv4([v6.parts[1]! >> 8, v6.parts[1]! & 0xff, v6.parts[2]! >> 8, v6.parts[2]! & 0xff]),
      );
    case 'teredo':
      // A Teredo address reaches a host behind a NAT through a relay; no legitimate callback target lives there.
      return { reason: 'reserved' };
    case 'amt':
    case 'as112v6':
      return undefined;
    case 'unicast':
      break;
    default:
      // benchmarking, documentation, ORCHID, discard-only and the other special-purpose blocks.
      return range === 'deprecatedSiteLocal' ? { reason: 'siteLocal' } : { reason: 'reserved' };
  }
  if (v6.parts.slice(0, 6).every((part) => part === 0)) {
    // IPv4-compatible ::a.b.c.d (deprecated): still judged by the IPv4 address, else reserved.
    return classifyEmbedded(lastIpv4(v6)) ?? { reason: 'reserved' };
  }
  // Outside 2000::/3 nothing is assigned as global unicast.
  return v6.match(GLOBAL_UNICAST_V6) ? undefined : { reason: 'reserved' };
}

function classifyEmbedded(v4: ipaddr.IPv4): BlockedAddress | undefined {
  const inner = classify(v4);
  return inner ? { reason: inner.reason, embeddedIpv4: v4.toString() } : undefined;
}

function lastIpv4(v6: ipaddr.IPv6): ipaddr.IPv4 {
  const bytes = v6.toByteArray();
  return new ipaddr.IPv4(bytes.slice(12));
}

function isMetadata(ip: IpAddress): boolean {
  return METADATA_ADDRESSES.some(
    (meta) => meta.kind() === ip.kind() && meta.match(ip, ip.kind() === 'ipv4' ? 32 : 128),
  );
}

/**
 * Parses an address as it comes from DNS or a URL host: IPv4 in dotted-decimal only (other forms such as `0x7f.1`
 * are a URL parser's business, and `010.0.0.1` would be octal to some readers and decimal to others), IPv6 with or
 * without brackets.
 */
function parseAddress(text: string): IpAddress | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (ipaddr.IPv4.isValidFourPartDecimal(bare)) return ipaddr.IPv4.parse(bare);
  if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  return undefined;
}

/** True when `text` is an IP address literal (IPv4 dotted-decimal or IPv6, brackets allowed). */
export function isIpAddress(text: string): boolean {
  return parseAddress(text) !== undefined;
}

/** "127.0.0.1 is a loopback address", for error messages. */
export function describeBlockedAddress(address: string, blocked: BlockedAddress): string {
  const via = blocked.embeddedIpv4 ? ` (it carries IPv4 ${blocked.embeddedIpv4})` : '';
  return `${address} is ${REASON_PHRASES[blocked.reason]}${via}`;
}

/**
 * Addresses and names the operator trusts beyond the public internet, for tests and trusted networks. A hostname
 * entry trusts the name itself: whatever it resolves to is connected to, so it must name a host under the operator's
 * control.
 */
export interface OutboundAllowList {
  /** The entries as written, normalised (lower-case hostnames, CIDRs as given). */
  readonly entries: readonly string[];
  readonly cidrs: readonly Cidr[];
  readonly hostnames: readonly string[];
}

export const EMPTY_OUTBOUND_ALLOW_LIST: OutboundAllowList = Object.freeze({
  entries: Object.freeze([]),
  cidrs: Object.freeze([]),
  hostnames: Object.freeze([]),
});

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
/** A URL parser reads a host whose last label is numeric as IPv4 (`1.2.3`, `0x7f`), so it can never match a name. */
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/;

/**
 * Parses a comma-separated allow-list such as `127.0.0.1/32,::1/128,hooks.internal.example`: CIDRs, single IP
 * addresses (a /32 or /128) and exact hostnames. Whitespace around entries and empty entries are ignored.
 * @throws JoblineError `CONFIG_INVALID` naming the first entry that is none of these.
 */
export function parseOutboundAllowList(text: string): OutboundAllowList {
  const entries: string[] = [];
  const cidrs: Cidr[] = [];
  const hostnames: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const cidr = parseCidrEntry(entry);
    if (cidr) {
      cidrs.push(cidr);
      entries.push(entry);
      continue;
    }
    const hostname = normaliseHostname(entry);
    if (!entry.includes('/') && HOSTNAME.test(hostname) && !NUMERIC_LAST_LABEL.test(hostname)) {
      hostnames.push(hostname);
      entries.push(hostname);
      continue;
    }
    throw new JoblineError(
      'CONFIG_INVALID',
      `invalid outbound allow-list entry "${entry}": expected a CIDR (10.1.0.0/16, fd12::/64), an IP address or an exact hostname`,
    );
  }
  return Object.freeze({
    entries: Object.freeze(entries),
    cidrs: Object.freeze(cidrs),
    hostnames: Object.freeze(hostnames),
  });
}

function parseCidrEntry(entry: string): Cidr | undefined {
  const [address, prefix, ...rest] = entry.split('/');
  if (address === undefined || rest.length > 0) return undefined;
  const ip = parseAddress(address);
  if (!ip || ip.toString().includes('%')) return undefined;
  const max = ip.kind() === 'ipv4' ? 32 : 128;
  if (prefix === undefined) return [ip, max];
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return undefined;
  return [ip, Number(prefix)];
}

function normaliseHostname(hostname: string): string {
  const lower = hostname.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** True when `hostname` is allow-listed by name (case and a trailing dot do not matter). */
export function isTrustedHostname(hostname: string, allowList: OutboundAllowList): boolean {
  return allowList.hostnames.includes(normaliseHostname(hostname));
}

export type OutboundDecision = { allowed: true } | { allowed: false; reason: BlockedReason; message: string };

/**
 * Decides whether a connection to `address` may be made. With `hostname`, the name the address was resolved from:
 * an allow-listed name is trusted whatever it resolves to. Otherwise public addresses are allowed, and blocked ones
 * only when an allow-listed CIDR contains them (cloud metadata addresses only by an exact entry).
 */
export function checkOutboundAddress(
  address: string,
  allowList: OutboundAllowList,
  hostname?: string,
): OutboundDecision {
  if (hostname !== undefined && isTrustedHostname(hostname, allowList)) return { allowed: true };
  const ip = parseAddress(address);
  if (!ip) return { allowed: false, reason: 'invalid', message: `${address} is ${REASON_PHRASES.invalid}` };
  const blocked = classify(ip);
  if (!blocked) return { allowed: true };
  if (allowListed(ip, blocked.reason, allowList)) return { allowed: true };
  return { allowed: false, reason: blocked.reason, message: describeBlockedAddress(address, blocked) };
}

function allowListed(ip: IpAddress, reason: BlockedReason, allowList: OutboundAllowList): boolean {
  // Node connects to an IPv4-mapped address over IPv4, so an IPv4 entry covers it.
  const candidates: IpAddress[] = [ip];
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress())
    candidates.push((ip as ipaddr.IPv6).toIPv4Address());
  return candidates.some((candidate) =>
    allowList.cidrs.some(([network, prefix]) => {
      if (network.kind() !== candidate.kind()) return false;
      if (reason === 'metadata' && prefix !== (network.kind() === 'ipv4' ? 32 : 128)) return false;
      return candidate.match(network, prefix);
    }),
  );
}
