import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface PdfSummary {
  pageCount: number;
  /** The text of each page, its items joined by spaces. */
  pages: string[];
  outline: string[];
  info: { Title?: string; Author?: string; Language?: string };
}

/**
 * Parses a PDF with pdf.js (pdfjs-dist, Mozilla's parser) and summarizes it. pdf.js is an ES module, which Jest's
 * CommonJS runtime cannot load, so it runs in a child Node process.
 */
export async function inspectPdf(file: string): Promise<PdfSummary> {
  const pdfjs = require.resolve('pdfjs-dist/legacy/build/pdf.mjs');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT, pdfjs, file], {
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  return JSON.parse(stdout) as PdfSummary;
}

const SCRIPT = `
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [pdfjsPath, file] = process.argv.slice(1);
const { getDocument } = await import(pathToFileURL(pdfjsPath).href);
const doc = await getDocument({ data: new Uint8Array(readFileSync(file)), verbosity: 0 }).promise;
const pages = [];
for (let n = 1; n <= doc.numPages; n++) {
  const content = await (await doc.getPage(n)).getTextContent();
  pages.push(content.items.map((item) => item.str).join(' ').replace(/\\s+/g, ' ').trim());
}
const outline = ((await doc.getOutline()) ?? []).map((item) => item.title);
const { info } = await doc.getMetadata();
process.stdout.write(JSON.stringify({ pageCount: doc.numPages, pages, outline, info }));
await doc.destroy();
`;
