import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '../logging/logger';
import { kafkaLogLevel, type KafkaLogLevel } from './kafka-log-level';
import { fixIdleRequestQueueTimer } from './request-queue-fix';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
}

const LEVELS: Record<number, KafkaLogLevel> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Consumer group timings for a session timeout: heartbeats at a third of it (Kafka's advice), and a rebalance may
 * take as long as the session.
 */
export function groupTimeouts(sessionTimeoutMs = 30_000) {
  return {
    sessionTimeout: sessionTimeoutMs,
    rebalanceTimeout: Math.max(sessionTimeoutMs, 60_000),
    heartbeatInterval: Math.min(3000, Math.floor(sessionTimeoutMs / 3)),
  };
}

export function createKafka({ brokers, clientId, logger }: KafkaClientOptions): Kafka {
  fixIdleRequestQueueTimer();
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        kafkaLogger.log(kafkaLogLevel(LEVELS[level] ?? 'info', message, extra), message, extra);
      },
  });
}
