import { createHash } from 'node:crypto';

/**
 * A UUID (version 8, RFC 9562) named by `name`: its first 48 bits are `at` in milliseconds, like the UUID v7 of every
 * other id jobline makes, and its remaining bits hash the name. Whoever derives it from the same name and time, however
 * often, gets the same id: what makes a schedule's fire, or a bulk job's command to one job, a single event in the log.
 */
export function derivedId(name: string, at: number): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes.writeUIntBE(at, 0, 6);
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
