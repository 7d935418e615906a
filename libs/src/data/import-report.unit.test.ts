import { ImportSummary, importSummary, type ImportReport } from './import-report';

const report: ImportReport = {
  importId: '0b8f3a52-9d7e-4c1b-8a7f-2f0c6d9e1a01',
  resource: 'users',
  format: 'ndjson',
  processed: 10,
  imported: 8,
  failed: 2,
  errorRate: 0.2,
  startedAt: '2026-03-01T12:00:00.000Z',
  updatedAt: '2026-03-01T12:00:05.000Z',
  completedAt: '2026-03-01T12:00:05.000Z',
  inputError: null,
  errors: [
    {
      recordIndex: 3,
      line: 4,
      code: 'VALIDATION_FAILED',
      message: 'email: Invalid email address',
      details: [{ field: 'email', message: 'Invalid email address', code: 'invalid_format' }],
      record: { id: 'x', email: 'nope' },
    },
    { recordIndex: 7, line: 8, code: 'PARSE_ERROR', message: 'bad JSON', details: [], record: '{"id": ' },
  ],
};

describe('importSummary', () => {
  it('gives the report’s counts and errors under the Bulk Data Import/Export API’s names', () => {
    const summary = importSummary(report);
    expect(summary).toEqual({
      resource: 'users',
      totalRecords: 10,
      successCount: 8,
      errorCount: 2,
      errors: [
        {
          recordIndex: 3,
          errorMessage: 'email: Invalid email address',
          errorType: 'VALIDATION_FAILED',
          recordData: { id: 'x', email: 'nope' },
        },
        { recordIndex: 7, errorMessage: 'bad JSON', errorType: 'PARSE_ERROR', recordData: '{"id": ' },
      ],
      completedAt: '2026-03-01T12:00:05.000Z',
    });
    expect(ImportSummary.parse(summary)).toEqual(summary);
  });

  it('is all null while there is no report', () => {
    const summary = importSummary(null);
    expect(Object.values(summary).every((value) => value === null)).toBe(true);
    expect(Object.keys(summary).sort()).toEqual(Object.keys(ImportSummary.shape).sort());
  });
});
