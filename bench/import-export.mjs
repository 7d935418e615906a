// Data import and export figures: BENCH_IMPORT_ROWS (1,000,000) users written as an NDJSON file to a temporary
// folder, streamed row by row (one row in a thousand has an invalid email, to exercise the error path), then
// (a) read and validated only, without a database: the engine's own ceiling;
// (b) imported with the engine (runner/src/record-import) into a fresh database: rows/s, and the process's resident
//     memory at its peak while importing, sampled every 50 ms (beside the peak of the whole run from the operating
//     system);
// (c) exported back to an NDJSON file: rows/s.
// Batch size BENCH_IMPORT_BATCH (1000). `node bench/import-export.mjs` runs this part alone; `npm run bench` runs it as
// its part (f). A benchmark, not a test: nothing here fails on a time.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MongoClient } from 'mongodb';
import { build, ensureInfrastructure } from '../scripts/local-stack.mjs';

const mb = (bytes) => Math.round(bytes / 1024 / 1024);

/** Writes `rows` users to `path`, one JSON line each, waiting for the file to drain rather than buffering. */
async function writeUsersFile(path, rows) {
  const out = createWriteStream(path);
  const bio = 'Writes about dragons, training, and the care of both. '.repeat(2);
  for (let n = 0; n < rows; n += 1) {
    const line = JSON.stringify({
      externalId: randomUUID(),
      username: `user${n}`,
      email: n % 1000 === 999 ? `user${n}-at-example.com` : `user${n}@example.com`,
      bio,
      image: `https://img.example.com/u/${n}.png`,
    });
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Samples this process's resident memory until stopped; returns the highest value seen. */
function rssSampler(intervalMs = 50) {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

/**
 * @param {{ rows?: number, batchSize?: number, log?: (message: string) => void }} options
 */
export async function benchImportExport({
  rows = Number(process.env.BENCH_IMPORT_ROWS ?? 1_000_000),
  batchSize = Number(process.env.BENCH_IMPORT_BATCH ?? 1000),
  log = () => {},
} = {}) {
  // Imported once the build has run, so that a fresh checkout can bench.
  const libs = {
    ...(await import('@jobline/libs/data')),
    ...(await import('../runner/dist/record-import/parse-records.js')),
    ...(await import('../runner/dist/record-import/import-records.js')),
  };
  const folder = await mkdtemp(join(tmpdir(), 'jobline-bench-data-'));
  const input = join(folder, 'users.ndjson');
  const output = join(folder, 'export.ndjson');
  const mongo = new MongoClient(process.env.MONGODB_URI);
  // No other database's name begins with this one (the local stack's server would drop those along with it).
  const db = mongo.db(`benchdata_${randomUUID().slice(0, 8)}`);
  try {
    await mongo.connect();
    const collections = libs.dataCollections(db);
    await libs.ensureDataIndexes(collections);

    log(`data: writing ${rows} users as NDJSON`);
    let started = performance.now();
    await writeUsersFile(input, rows);
    const generateSeconds = (performance.now() - started) / 1000;
    const fileBytes = (await stat(input)).size;

    // The engine's own ceiling: reading and validating every row, no database.
    log('data: parsing and validating only');
    started = performance.now();
    let valid = 0;
    for await (const item of libs.parseRecords(createReadStream(input), 'ndjson')) {
      if ('record' in item && libs.UserRecord.safeParse(item.record).success) valid += 1;
    }
    const parseSeconds = (performance.now() - started) / 1000;

    log(`data: importing ${mb(fileBytes)} MB`);
    const rssBefore = process.memoryUsage().rss;
    const sampler = rssSampler();
    let lastLog = 0;
    started = performance.now();
    const imported = await libs.importRecords({
      collections,
      tenantId: 'bench',
      importId: randomUUID(),
      resource: 'users',
      format: 'ndjson',
      input: createReadStream(input),
      batchSize,
      onProgress: (p) => {
        if (performance.now() - lastLog < 10_000) return;
        lastLog = performance.now();
        log(`data: ${p.processed} rows, ${p.rowsPerSecond} rows/s, ${mb(process.memoryUsage().rss)} MB resident`);
      },
    });
    const importSeconds = (performance.now() - started) / 1000;
    const peakRss = sampler.stop();

    log('data: exporting');
    started = performance.now();
    const exported = await libs.writeExport(
      { collections, tenantId: 'bench', request: { resource: 'users', format: 'ndjson' } },
      createWriteStream(output),
    );
    const exportSeconds = (performance.now() - started) / 1000;

    return {
      rows,
      batchSize,
      fileMb: mb(fileBytes),
      generateSeconds,
      parseAndValidate: { seconds: parseSeconds, rowsPerSec: Math.round(rows / parseSeconds), valid },
      import: {
        seconds: importSeconds,
        rowsPerSec: Math.round(rows / importSeconds),
        imported: imported.imported,
        failed: imported.failed,
        rssMb: { before: mb(rssBefore), peak: mb(peakRss) },
      },
      export: {
        seconds: exportSeconds,
        rowsPerSec: Math.round(exported.exported / exportSeconds),
        rows: exported.exported,
        fileMb: mb((await stat(output)).size),
      },
      // The operating system's peak for the whole run, generation and export included.
      processMaxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await db.dropDatabase().catch(() => undefined);
    await mongo.close();
    await rm(folder, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const log = (message) => process.stderr.write(`[bench] ${message}\n`);
  ensureInfrastructure(log);
  build();
  benchImportExport({ log }).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`),
    (err) => {
      log(err.stack ?? String(err));
      process.exitCode = 1;
    },
  );
}
