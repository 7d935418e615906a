import { createLogger } from './logger';

function captured(level: string) {
  const logger = createLogger({ service: 'test', level });
  for (const transport of logger.transports) transport.silent = true;
  const entries: Record<string, unknown>[] = [];
  // What the logger hands its transports; an entry its formats dropped arrives as `false` and is written nowhere.
  logger.on('data', (info: Record<string, unknown> | false) => {
    if (info) entries.push(info);
  });
  return { logger, entries };
}

describe('createLogger', () => {
  it('formats entries of enabled levels, with the service and a timestamp', () => {
    const { logger, entries } = captured('info');
    logger.child({ requestId: 'r1' }).info('hello', { n: 1 });
    expect(entries).toEqual([
      expect.objectContaining({ message: 'hello', n: 1, requestId: 'r1', service: 'test', level: 'info' }),
    ]);
    expect(entries[0]!.timestamp).toEqual(expect.any(String));
  });

  it('drops entries of disabled levels before formatting them', () => {
    const { logger, entries } = captured('info');
    logger.debug('not wanted');
    logger.child({ jobId: 'j1' }).log('debug', 'nor this');
    expect(entries).toEqual([]);
  });

  it('follows a level changed at run time', () => {
    const { logger, entries } = captured('info');
    logger.level = 'debug';
    logger.debug('wanted now');
    expect(entries).toEqual([expect.objectContaining({ message: 'wanted now', level: 'debug' })]);
  });
});
