import {
  checkOutboundAddress,
  isIpAddress,
  isTrustedHostname,
  type BlockedReason,
  type OutboundAllowList,
  EMPTY_OUTBOUND_ALLOW_LIST,
} from './address-policy';

export type OutboundUrlProblem = 'malformed' | 'scheme' | 'credentials' | BlockedReason;

export type OutboundUrlCheck =
  | { ok: true; url: URL }
  | {
      ok: false;
      code: 'OUTBOUND_URL_INVALID' | 'OUTBOUND_ADDRESS_BLOCKED';
      problem: OutboundUrlProblem;
      message: string;
    };

/**
 * Rejects URLs that can be seen to be unfit for an outbound request without DNS: not http(s), credentials in the
 * URL, an IP literal that is blocked, or a `localhost` name (RFC 6761 reserves those for loopback). Meant for the API
 * edge, to refuse a bad `callbackUrl` when it is submitted; the guarded HTTP client runs the same check on every hop
 * and then checks the addresses a name resolves to. Messages name the host but never the whole URL, which may carry
 * secrets in its path or query.
 */
export function checkOutboundUrl(
  input: string | URL,
  allowList: OutboundAllowList = EMPTY_OUTBOUND_ALLOW_LIST,
): OutboundUrlCheck {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return invalid('malformed', 'not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return invalid('scheme', `only http and https URLs are allowed, not ${url.protocol.slice(0, -1)}`);
  }
  if (url.username !== '' || url.password !== '') {
    return invalid('credentials', 'a URL must not carry credentials (user:password@)');
  }
  // The WHATWG parser has already turned every IPv4 spelling (2130706433, 0x7f.1, 127.1) into dotted decimal.
  const host = url.hostname;
  if (isIpAddress(host)) {
    const address = host.startsWith('[') ? host.slice(1, -1) : host;
    const decision = checkOutboundAddress(address, allowList);
    return decision.allowed ? { ok: true, url } : blocked(decision.reason, decision.message);
  }
  if (isLocalhostName(host) && !isTrustedHostname(host, allowList) && !loopbackAllowed(allowList)) {
    return blocked('loopback', `${host} is a loopback name`);
  }
  return { ok: true, url };
}

function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** A localhost name resolves to 127.0.0.1 or ::1; the allow-list decides on those addresses as it would on literals. */
function loopbackAllowed(allowList: OutboundAllowList): boolean {
  return ['127.0.0.1', '::1'].some((address) => checkOutboundAddress(address, allowList).allowed);
}

function invalid(problem: OutboundUrlProblem, message: string): OutboundUrlCheck {
  return { ok: false, code: 'OUTBOUND_URL_INVALID', problem, message };
}

function blocked(problem: OutboundUrlProblem, message: string): OutboundUrlCheck {
  return { ok: false, code: 'OUTBOUND_ADDRESS_BLOCKED', problem, message };
}
