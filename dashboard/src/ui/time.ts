const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "3 min. ago", "in 20 sec." */
export function fromNow(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86_400), 'day');
}

export function formatInstant(iso: string | null | undefined): string {
  return iso ? absolute.format(new Date(iso)) : '—';
}

/** 90061 → "1d 1h 1m 1s", 3601 → "1h 0m 1s", 59 → "59s" */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const parts: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  const shown = parts.slice(first === -1 ? parts.length - 1 : first);
  return shown.map(([n, unit]) => `${n}${unit}`).join(' ');
}

/** The instant as a wall clock in another time zone (a schedule's), or null for a zone this browser does not know. */
export function formatInZone(iso: string, timeZone: string): string | null {
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(
      new Date(iso),
    );
  } catch {
    return null;
  }
}

/** The browser's own time zone, as IANA names it. */
export const localTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;
