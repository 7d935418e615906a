import { recordFromCsvRow } from './csv-cells';

describe('CSV cells', () => {
  it('decodes list cells as JSON arrays or ;-separated values, empty cells as absent', () => {
    expect(recordFromCsvRow({ t: '["a;b","c"]', u: 'x', v: '' }, ['t'])).toEqual({ t: ['a;b', 'c'], u: 'x' });
    expect(recordFromCsvRow({ t: ' a ; b;;c ' }, ['t'])).toEqual({ t: ['a', 'b', 'c'] });
    expect(recordFromCsvRow({ t: '[broken' }, ['t'])).toEqual({ t: '[broken' });
  });
});
