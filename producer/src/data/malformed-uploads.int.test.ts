import fc from 'fast-check';
import { createLogger } from '@jobline/libs';
import { readJson } from '@jobline/libs/testing';
import { ProblemDetails } from '../http/problem-details';
import { startTestApp, type TestApp } from '../testing/test-app';
import { startTestData, type TestData } from '../testing/test-data';

const logger = createLogger({ service: 'test', level: 'error' });
const BOUNDARY = 'jobline-property-boundary';
/** Runs replay with `FC_SEED=<seed>` (fast-check prints the seed of a failure); otherwise the same runs every time. */
const SEED = Number(process.env.FC_SEED ?? 20_260_412);

/** One part of a form: its header lines (without line ends) and its body. */
interface Part {
  headers: string[];
  body: string;
  /** The upload itself: the one file part named `file`. */
  isFile?: boolean;
}

/**
 * Each mutation breaks the framing so that the parser must fail wherever it meets it, and every part it can hide
 * behind is itself a failure: a header line the header grammar refuses, a part whose blank line is gone (its body
 * starts with `{`, which no header name may), the file part's delimiter run into its headers (the file becomes data of
 * the part before it, so the form has none), a body that ends before its closing delimiter, a boundary the body does
 * not use, or none at all.
 */
type Mutation =
  | { kind: 'badHeader'; part: number; at: number; line: string }
  | { kind: 'noBlankLine'; part: number }
  | { kind: 'fileDelimiterRunOn' }
  | { kind: 'truncate'; at: number }
  | { kind: 'cutFile'; at: number }
  | { kind: 'contentType'; value: string };

/** Names a client may give a part: quotes, separators, non-ASCII, empty, long. Line breaks are the header mutations' job. */
const oddName = fc
  .oneof(
    fc.constantFrom('', 'file', 'File', 'file[]', 'files', 'a"b', 'a;b', 'a=b', '__proto__', 'ü', '\\', '%0d%0a'),
    fc.constant('x'.repeat(300)),
    fc.string({ maxLength: 20 }),
    fc.string({ unit: 'grapheme', maxLength: 8 }),
  )
  // A name may not smuggle in a second upload (`x"; filename="y`): the file-delimiter mutation relies on there being one.
  .filter((name) => !/[\r\n]/.test(name) && !/filename/i.test(name));

const fieldValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', '\r\n', 'a\r\nb', '--', '{}'));

const fieldPart = fc
  .tuple(oddName, fieldValue)
  .map(([name, value]): Part => ({ headers: [`Content-Disposition: form-data; name="${name}"`], body: value }));

const decoyFile = fc
  .tuple(
    oddName.filter((name) => name !== 'file'),
    fc.string({ maxLength: 200 }),
  )
  .map(([name, content]): Part => ({
    headers: [
      `Content-Disposition: form-data; name="${name}"; filename="other.bin"`,
      'Content-Type: application/octet-stream',
    ],
    body: content,
  }));

const csvRow = fc
  .tuple(fc.uuid(), fc.stringMatching(/^[a-z]{1,12}$/))
  .map(([id, user]) => `${id},${user},${user}@example.com\r\n`);

const uploadPart = fc
  .tuple(
    fc.constantFrom('users.csv', '../../etc/passwd', 'a\\"b.csv', 'ü.csv', '.hidden', `${'x'.repeat(300)}.csv`),
    fc.array(csvRow, { minLength: 1, maxLength: 150 }),
  )
  .map(([filename, rows]): Part => ({
    headers: [`Content-Disposition: form-data; name="file"; filename="${filename}"`, 'Content-Type: text/csv'],
    body: `externalId,username,email\r\n${rows.join('')}`,
    isFile: true,
  }));

/** A form that is well framed, in any order of its parts: fields, other files, and the upload among them. */
const wellFramedForm = fc
  .tuple(fc.array(fieldPart, { maxLength: 5 }), fc.array(decoyFile, { maxLength: 2 }), uploadPart)
  .chain(([fields, decoys, upload]) => {
    const parts = [...fields, ...decoys, upload];
    return fc.shuffledSubarray(parts, { minLength: parts.length, maxLength: parts.length });
  });

/** Header lines the part-header grammar refuses. */
const badHeaderLine = fc.oneof(
  fc.constantFrom('Bad Name: 1', 'no colon at all', ': no name', 'X-Odd: a\rb', 'X-Odd: a\nY: b', 'X-Odd: \u0001'),
  fc.constantFrom('X-Odd: \u007f', '(x): 1', 'X-Odd\t: 1'),
  fc.integer({ min: 16_400, max: 40_000 }).map((n) => `X-Huge: ${'a'.repeat(n)}`),
  fc.string({ maxLength: 10 }).map((s) => `X-Ctl: ${s}\u0000`),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('badHeader' as const), part: fc.nat(), at: fc.nat(), line: badHeaderLine }),
  fc.record({ kind: fc.constant('noBlankLine' as const), part: fc.nat() }),
  fc.record({ kind: fc.constant('fileDelimiterRunOn' as const) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('cutFile' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({
    kind: fc.constant('contentType' as const),
    value: fc.oneof(
      fc.constantFrom('multipart/form-data', 'multipart/form-data; boundary=', 'multipart/form-data; charset=utf-8'),
      fc
        .oneof(
          fc.constantFrom(BOUNDARY.slice(0, -1), `${BOUNDARY}x`, BOUNDARY.toUpperCase(), `"${BOUNDARY} "`),
          fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/),
        )
        .filter((boundary) => boundary !== BOUNDARY && boundary !== `"${BOUNDARY}"`)
        .map((boundary) => `multipart/form-data; boundary=${boundary}`),
    ),
  }),
);

/** The request a malformed form goes out as: its content type and its bytes. */
function render(parts: Part[], mutations: Mutation[]): { contentType: string; body: Buffer } {
  const edited = parts.map((part) => ({ ...part, headers: [...part.headers], blankLine: true, delimiterLine: true }));
  for (const m of mutations) {
    if (m.kind === 'badHeader') {
      const part = edited[m.part % edited.length]!;
      part.headers.splice(m.at % (part.headers.length + 1), 0, m.line);
    } else if (m.kind === 'noBlankLine') {
      const part = edited[m.part % edited.length]!;
      part.blankLine = false;
      if (!part.body.startsWith('{')) part.body = `{${part.body}`;
    } else if (m.kind === 'fileDelimiterRunOn') {
      edited.find((part) => part.isFile)!.delimiterLine = false;
    }
  }
  let text = '';
  let fileStart = 0;
  let fileEnd = 0;
  for (const part of edited) {
    text += `--${BOUNDARY}${part.delimiterLine ? '\r\n' : ''}${part.headers.join('\r\n')}\r\n`;
    if (part.blankLine) text += '\r\n';
    if (part.isFile) fileStart = Buffer.byteLength(text);
    text += part.body;
    if (part.isFile) fileEnd = Buffer.byteLength(text);
    text += '\r\n';
  }
  text += `--${BOUNDARY}--`;
  let body = Buffer.from(text);
  let contentType = `multipart/form-data; boundary=${BOUNDARY}`;
  for (const m of mutations) {
    if (m.kind === 'truncate') body = body.subarray(0, Math.floor(m.at * (body.length - 1)));
    else if (m.kind === 'cutFile') {
      body = body.subarray(0, Math.min(body.length - 1, fileStart + Math.floor(m.at * (fileEnd - fileStart))));
    } else if (m.kind === 'contentType') contentType = m.value;
  }
  return { contentType, body };
}

describe('malformed multipart uploads (property-based)', () => {
  let stack: TestApp;
  let blobs: TestData;
  let base: string;

  beforeAll(async () => {
    stack = await startTestApp({ clientId: 'test-malformed-uploads', logger });
    blobs = await startTestData(stack);
    base = (await stack.start({ data: blobs.data })).baseUrl;
  });

  afterAll(async () => {
    await stack.close();
    await blobs.close();
  });

  const auth = { authorization: 'Bearer token-a' };

  it('a well-framed form of the same parts is accepted (the property below tests the mutations, not the forms)', async () => {
    await fc.assert(
      fc.asyncProperty(wellFramedForm, async (parts) => {
        fc.pre(
          !parts
            .slice(
              0,
              parts.findIndex((p) => p.isFile),
            )
            .some((p) => p.headers.length > 1),
        );
        const { contentType, body } = render(parts, []);

        const res = await fetch(`${base}/v1/imports?resource=users`, {
          method: 'POST',
          headers: { ...auth, 'content-type': contentType },
          body,
        });

        expect(res.status).toBe(202);
      }),
      { numRuns: 20, seed: SEED },
    );
  });

  it('answers every malformed body with a 4xx problem, keeps nothing of it, and goes on serving', async () => {
    await fc.assert(
      fc.asyncProperty(wellFramedForm, fc.array(mutation, { minLength: 1, maxLength: 3 }), async (parts, mutations) => {
        const { contentType, body } = render(parts, mutations);
        const [eventsBefore, filesBefore] = [await stack.eventsInLog(), await blobs.filesLeft()];

        const res = await fetch(`${base}/v1/imports?resource=users`, {
          method: 'POST',
          headers: { ...auth, 'content-type': contentType },
          body,
        });

        expect([400, 413, 415]).toContain(res.status);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(ProblemDetails.parse(await readJson(res)).status).toBe(res.status);
        expect(await blobs.filesLeft()).toEqual(filesBefore);
        expect(await stack.eventsInLog()).toBe(eventsBefore);
        const normal = await fetch(`${base}/v1/imports`, { headers: auth });
        expect(normal.status).toBe(200);
      }),
      { numRuns: 150, seed: SEED },
    );
  });
});
