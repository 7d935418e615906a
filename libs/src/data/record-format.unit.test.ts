import { formatFromHead, formatFromHints } from './record-format';

describe('format detection', () => {
  it('trusts a specific content type, then the file name, and says nothing for generic ones', () => {
    expect(formatFromHints({ contentType: 'application/x-ndjson; charset=utf-8', fileName: 'a.csv' })).toBe('ndjson');
    expect(formatFromHints({ contentType: 'text/csv' })).toBe('csv');
    expect(formatFromHints({ contentType: 'application/json' })).toBe('json');
    expect(formatFromHints({ contentType: 'application/octet-stream', fileName: 'users.JSONL' })).toBe('ndjson');
    expect(formatFromHints({ contentType: 'text/plain', fileName: 'dump.bin' })).toBeNull();
    expect(formatFromHints({ contentType: 'constructor', fileName: 'x.toString' })).toBeNull();
  });

  it('tells the format by the first bytes', () => {
    expect(formatFromHead(Buffer.from('\uFEFF  \n[{"a":1}]'))).toBe('json');
    expect(formatFromHead(Buffer.from('{"a":1}\n'))).toBe('ndjson');
    expect(formatFromHead(Buffer.from('externalId,username\n'))).toBe('csv');
  });
});
