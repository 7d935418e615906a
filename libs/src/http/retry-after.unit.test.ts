import { parseRetryAfter } from './retry-after';

const NOW = Date.parse('1994-11-06T08:49:30.000Z');

describe('parseRetryAfter', () => {
  it.each<[string, number]>([
    ['0', 0],
    ['2', 2000],
    ['120', 120_000],
    [' 7 ', 7000],
  ])('reads delay-seconds %j', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });

  it.each([
    ['an IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT'],
    ['an obsolete RFC 850 date', 'Sunday, 06-Nov-94 08:49:37 GMT'],
    ['an asctime date, which is GMT though it does not say so', 'Sun Nov  6 08:49:37 1994'],
  ])('reads %s as the time until then', (_name, header) => {
    expect(parseRetryAfter(header, NOW)).toBe(7000);
  });

  it('asks for no wait when the date has passed', () => {
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:00:00 GMT', NOW)).toBe(0);
  });

  it('takes a number of seconds beyond any timer as the longest wait there is', () => {
    expect(parseRetryAfter('99999999999999999999', NOW)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
    ['negative', '-1'],
    ['a fraction', '1.5'],
    ['a unit', '5s'],
    ['not a date', 'soon'],
    ['an impossible date', 'Sun, 32 Nov 1994 08:49:37 GMT'],
    ['repeated with different values', ['1', '2']],
  ])('gives null for a header that is %s', (_name, header) => {
    expect(parseRetryAfter(header, NOW)).toBeNull();
  });

  it('reads a header repeated with one value', () => {
    expect(parseRetryAfter(['3', '3'], NOW)).toBe(3000);
  });
});
