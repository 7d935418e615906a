import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a callback's signature travels in: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const CALLBACK_SIGNATURE_HEADER = 'Jobline-Signature';
/** The delivery's id, the same on every attempt of one delivery: receivers deduplicate on it. */
export const CALLBACK_DELIVERY_HEADER = 'Jobline-Delivery';

/**
 * A tenant's callback secret, derived from the deployment's signing key, so that every producer and persister agrees
 * on it without storing it, and rotating the key rotates every tenant's secret.
 */
export function tenantCallbackSecret(signingKey: string, tenantId: string): string {
  return createHmac('sha256', signingKey).update(`callback-secret:${tenantId}`).digest('base64url');
}

function digest(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The signature header's value for `body` sent at `timestamp` (unix seconds). */
export function signCallback(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${digest(secret, timestamp, body)}`;
}

export type CallbackVerification = { ok: true; timestamp: number } | { ok: false; reason: string };

/**
 * What a receiver does: recompute the HMAC over the timestamp and the raw body, compare in constant time, and refuse
 * signatures older than `toleranceSeconds` so that a captured request cannot be replayed later.
 */
export function verifyCallbackSignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): CallbackVerification {
  if (!header) return { ok: false, reason: 'no signature' };
  const fields = new Map(
    header.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const timestamp = Number(fields.get('t'));
  const given = fields.get('v1');
  if (!Number.isInteger(timestamp) || !given || !/^[0-9a-f]{64}$/.test(given)) {
    return { ok: false, reason: 'malformed signature' };
  }
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: 'signature too old' };
  const expected = Buffer.from(digest(secret, timestamp, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) return { ok: false, reason: 'signature mismatch' };
  return { ok: true, timestamp };
}
