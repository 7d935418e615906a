import type { JobType } from '@jobline/libs';
import { createBookExportHandler, type BookHandlerDeps } from './book-export-handler';
import { createBookImportHandler } from './book-import-handler';
import { createDataExportHandler } from './data-export-handler';
import { createDataImportHandler, type DataHandlerDeps } from './data-import-handler';
import { createDeadLetterBulkHandler, type DeadLetterBulkDeps } from './dead-letter-bulk-handler';
import { createHttpHandler, type HttpHandlerDeps } from './http-handler';
import type { JobHandler } from './job-handler';
import { noopHandler } from './noop-handler';
import { sleepHandler } from './sleep-handler';

export type { HandlerContext, HandlerResult, JobHandler } from './job-handler';

/**
 * What the handlers need from the runner's process: the outbound HTTP client and the signing key, the blob store, the
 * collections that imports write and exports read, and what the bulk jobs on the dead letters read and publish.
 */
export type HandlerDeps = HttpHandlerDeps & DataHandlerDeps & BookHandlerDeps & { deadLetters: DeadLetterBulkDeps };

export function createHandlers(deps: HandlerDeps): Record<JobType, JobHandler> {
  return {
    sleep: sleepHandler,
    noop: noopHandler,
    http: createHttpHandler(deps),
    'data.import': createDataImportHandler(deps),
    'data.export': createDataExportHandler(deps),
    'book.import': createBookImportHandler(deps),
    'book.export': createBookExportHandler(deps),
    'deadLetters.redrive': createDeadLetterBulkHandler('redrive', deps.deadLetters),
    'deadLetters.discard': createDeadLetterBulkHandler('discard', deps.deadLetters),
  };
}
