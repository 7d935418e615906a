/**
 * How long a `Retry-After` header (RFC 9110 §10.2.3) asks the client to wait, in milliseconds from `now`: either
 * delay-seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00 GMT`, or the obsolete RFC 850 and asctime forms
 * that `Date.parse` reads too). A date already past means no wait (0). Null when the header is absent, repeated with
 * different values, or unreadable: the caller then waits what it would have waited anyway.
 */
export function parseRetryAfter(header: string | readonly string[] | undefined, now: number): number | null {
  const values = typeof header === 'string' ? [header] : [...new Set(header ?? [])];
  if (values.length !== 1) return null;
  const value = values[0]!.trim();
  if (/^\d+$/.test(value)) {
    // Beyond what a timer can hold, the server means "not any time soon": an honest caller gives up.
    return Math.min(Number(value) * 1000, Number.MAX_SAFE_INTEGER);
  }
  // A date must name a weekday or month: `Date.parse` would also take "2", "1.5" or "-1" as dates.
  if (!/[a-z]{3}/i.test(value)) return null;
  // HTTP dates are in GMT; the asctime form does not say so, and `Date.parse` would read it as local time.
  const at = Date.parse(/\b(GMT|UTC)$/i.test(value) ? value : `${value} GMT`);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}
