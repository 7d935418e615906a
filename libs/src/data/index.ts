/** Bulk data: the resources and their records, formats, import reports and exports, and their collections. */
export * from './data-resources';
export * from './data-collections';
export * from './record-format';
export * from './record-aliases';
export * from './csv-cells';
export * from './import-report';
export * from './export-request';
export * from './export-records';
