import { Readable } from 'node:stream';
import { csvRow, recordFromCsvRow, type ParsedRecord, type RecordFormat } from '@jobline/libs/data';
import { parseRecords, resolveRecordFormat } from './parse-records';

/** The input cut into chunks of `size` bytes, so that lines, quotes and UTF-8 sequences straddle chunk edges. */
function chunked(text: string, size = 3): Readable {
  const bytes = Buffer.from(text);
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks, { objectMode: false });
}

async function parse(text: string, format: RecordFormat, size?: number): Promise<ParsedRecord[]> {
  const out: ParsedRecord[] = [];
  for await (const item of parseRecords(chunked(text, size), format)) out.push(item);
  return out;
}

/** Records as `index:value` and errors as `index:!` (`!!` when fatal), for compact expectations. */
const shape = (items: ParsedRecord[]) =>
  items.map((i) =>
    'parseError' in i ? `${i.index}:${i.fatal ? '!!' : '!'}` : `${i.index}:${JSON.stringify(i.record).slice(0, 100)}`,
  );

describe('NDJSON', () => {
  it('reads one record a line, skips blank lines, and makes a bad line an error of its own', async () => {
    const text = '\uFEFF{"a":"é"}\r\n\n   \n{"a":2}\n{"a":\n[1]\n{"a":"last, no newline"}';
    for (const size of [1, 2, 3, 1024]) {
      const items = await parse(text, 'ndjson', size);
      expect(shape(items)).toEqual(['0:{"a":"é"}', '1:{"a":2}', '2:!', '3:[1]', '4:{"a":"last, no newline"}']);
      expect(items.map((i) => i.line)).toEqual([1, 4, 5, 6, 7]);
      expect(items[2]).toMatchObject({ raw: '{"a":', fatal: false });
    }
  });

  it('turns a line past the length limit into an error and goes on with the next', async () => {
    const long = `{"a":"${'x'.repeat((1 << 20) + 10)}"}`;
    const items = await parse(`{"a":1}\n${long}\n{"a":3}\n`, 'ndjson', 64 * 1024);
    expect(shape(items)).toEqual(['0:{"a":1}', '1:!', '2:{"a":3}']);
    expect(items[1]).toMatchObject({ line: 2, parseError: expect.stringContaining('longer than') });
  });
});

describe('JSON array', () => {
  it('streams the items, whatever their type, for validation to judge', async () => {
    const items = await parse(' [ {"a":"é"}, 42, "x", null, {"b":[1,2]} ] ', 'json', 1);
    expect(shape(items)).toEqual(['0:{"a":"é"}', '1:42', '2:"x"', '3:null', '4:{"b":[1,2]}']);
  });

  it('ends with a fatal error where the syntax breaks, at the same index however the input is chunked', async () => {
    const items = Array.from({ length: 100 }, (_, n) => JSON.stringify({ n, pad: 'x'.repeat(20) }));
    const text = `[${items.join(',')},{"n":]`;
    const runs = await Promise.all([1, 7, 4096].map((size) => parse(text, 'json', size)));
    const [first] = runs;
    for (const run of runs) expect(shape(run)).toEqual(shape(first!));
    const read = first!.filter((i) => 'record' in i);
    // Only items that ended in the last 1 KiB slice before the error are lost to it.
    expect(read.length).toBeGreaterThan(70);
    expect(read.map((i) => (i as { record: { n: number } }).record.n)).toEqual([...Array(read.length).keys()]);
    expect(first!.at(-1)).toMatchObject({
      index: read.length,
      fatal: true,
      parseError: expect.stringMatching(/malformed JSON/),
    });
    expect(shape(await parse('[{"a":1},{"a":2}', 'json'))).toEqual(['0:{"a":1}', '1:{"a":2}', '2:!!']);
    expect(shape(await parse('{"a":1}', 'json'))).toEqual(['0:!!']);
    expect(shape(await parse('[]', 'json'))).toEqual([]);
  });

  it('throws what the input stream throws', async () => {
    const failing = new Readable({
      read() {
        this.push('[{"a":1},');
        this.destroy(new Error('connection reset'));
      },
    });
    const read = async () => {
      for await (const _ of parseRecords(failing, 'json')) void _;
    };
    await expect(read()).rejects.toThrow('connection reset');
  });
});

describe('CSV', () => {
  it('reads quoted commas, doubled quotes, embedded line breaks, CRLF and a BOM', async () => {
    const text =
      '\uFEFFid, name ,note\r\n1,"Doe, Jane","said ""hi"""\r\n2,Bob,"two\r\nlines"\r\n\r\n3,Ann,"a\nb\nc"\r\n4,Zoë,last';
    for (const size of [1, 5, 4096]) {
      const items = await parse(text, 'csv', size);
      expect(shape(items)).toEqual([
        '0:{"id":"1","name":"Doe, Jane","note":"said \\"hi\\""}',
        '1:{"id":"2","name":"Bob","note":"two\\r\\nlines"}',
        '2:{"id":"3","name":"Ann","note":"a\\nb\\nc"}',
        '3:{"id":"4","name":"Zoë","note":"last"}',
      ]);
      expect(items.map((i) => i.line)).toEqual([2, 3, 6, 9]);
    }
  });

  it('makes a row of the wrong width or with a stray quote an error of that row, in file order', async () => {
    const items = await parse('a,b\n1,2\n3\n4,5,6\n7,x"y\n8,9\n', 'csv');
    expect(shape(items)).toEqual(['0:{"a":"1","b":"2"}', '1:!', '2:!', '3:!', '4:{"a":"8","b":"9"}']);
    expect(items[1]).toMatchObject({ line: 3, fatal: false });
  });

  it('ends with a fatal error at an unclosed quote, and refuses a header naming a column twice', async () => {
    expect(shape(await parse('a,b\n1,2\n3,"open\n4,5\n', 'csv'))).toEqual(['0:{"a":"1","b":"2"}', '1:!!']);
    expect(shape(await parse('a,b,a\n1,2,3\n', 'csv'))).toEqual(['0:!!']);
  });

  it('writes rows that it reads back unchanged', async () => {
    const values = ['plain', 'with, comma', 'with "quotes"', 'two\nlines', ['x', 'y;z'], null];
    const text = csvRow(['a', 'b', 'c', 'd', 'e', 'f']) + csvRow(values);
    const [item] = await parse(text, 'csv');
    const record = recordFromCsvRow((item as { record: Record<string, string> }).record, ['e']);
    expect(record).toEqual({ a: 'plain', b: 'with, comma', c: 'with "quotes"', d: 'two\nlines', e: ['x', 'y;z'] });
  });
});

describe('format of an undeclared input', () => {
  it('sniffs an undeclared input and replays the bytes it looked at', async () => {
    const text = `${'{"a":1}\n'.repeat(200)}`;
    const { format, input } = await resolveRecordFormat({ input: chunked(text, 100), contentType: 'text/plain' });
    expect(format).toBe('ndjson');
    const items: ParsedRecord[] = [];
    for await (const item of parseRecords(input, format)) items.push(item);
    expect(items).toHaveLength(200);
  });
});
