import { accessLogLevel } from './request-telemetry';

describe('accessLogLevel', () => {
  it('logs server errors as warnings, client errors as info and answered requests at debug', () => {
    expect([500, 503].map(accessLogLevel)).toEqual(['warn', 'warn']);
    expect([400, 404, 429].map(accessLogLevel)).toEqual(['info', 'info', 'info']);
    expect([200, 202, 204, 304].map(accessLogLevel)).toEqual(['debug', 'debug', 'debug', 'debug']);
  });
});
