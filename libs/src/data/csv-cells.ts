/**
 * What CSV cells mean for a record, both ways. CSV has only strings, so:
 * - an empty cell is a field not given (an optional field stays unset, a required one fails validation);
 * - a list (an article's `tagList`) is a JSON array in its cell, `["dragons","training"]`, which is what exports
 *   write and what keeps any tag text intact; a cell that does not start with `[` is read as `;`-separated values,
 *   trimmed (`dragons; training`), for files written by hand or by spreadsheets;
 * - dates are ISO 8601 text.
 */
export function recordFromCsvRow(row: Record<string, string>, listFields: readonly string[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [field, cell] of Object.entries(row)) {
    if (cell === '') continue;
    record[field] = listFields.includes(field) ? listFromCell(cell) : cell;
  }
  return record;
}

function listFromCell(cell: string): unknown {
  const text = cell.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch {
      // Left as text, so that validation names the field.
      return cell;
    }
  }
  return text
    .split(';')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** One CSV row of `values`, RFC 4180: quoted when needed, quotes doubled, ended by CRLF. */
export function csvRow(values: readonly unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = Array.isArray(value)
    ? JSON.stringify(value)
    : value instanceof Date
      ? value.toISOString()
      : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
