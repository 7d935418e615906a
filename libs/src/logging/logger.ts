import winston from 'winston';

export type Logger = winston.Logger;

export interface LoggerOptions {
  service: string;
  level?: string;
  format?: 'json' | 'pretty';
}

/**
 * JSON logs with the service name on every line; child loggers add correlation ids (`requestId`, `jobId`,
 * `tenantId`). `pretty` is for a terminal: one short line per entry with the extra fields after it.
 */
export function createLogger({ service, level = 'info', format = 'json' }: LoggerOptions): Logger {
  // winston formats every entry before its transports drop the ones below their level: a debug line on an info logger
  // would still be timestamped and serialised. Entries of disabled levels stop here, first.
  const enabled = winston.format((info) => (logger.isLevelEnabled(info.level) ? info : false));
  const base = [enabled(), winston.format.errors({ stack: true }), winston.format.timestamp()];
  const output =
    format === 'json'
      ? winston.format.json()
      : winston.format.printf(({ timestamp, level: lvl, message, service: _s, stack, ...rest }) => {
          const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
          return `${String(timestamp).slice(11, 23)} ${lvl.padEnd(5)} ${String(message)}${extra}${stack ? `\n${String(stack)}` : ''}`;
        });
  const logger = winston.createLogger({
    level,
    defaultMeta: { service },
    format: winston.format.combine(...base, output),
    transports: [new winston.transports.Console({ stderrLevels: ['error'] })],
  });
  return logger;
}
