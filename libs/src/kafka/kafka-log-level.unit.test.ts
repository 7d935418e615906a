import { createRequire } from 'node:module';
import { kafkaLogLevel, TRANSIENT_PROTOCOL_ERRORS, type KafkaLogLevel } from './kafka-log-level';

/** kafkajs's own table of protocol errors: the messages its connections log. */
const kafkajsErrors = (
  createRequire(__filename)('kafkajs/src/protocol/error') as {
    errorCodes: { type: string; message: string; retriable: boolean }[];
  }
).errorCodes;

const LEVELS: KafkaLogLevel[] = ['error', 'warn', 'info', 'debug'];

describe('kafkaLogLevel', () => {
  it.each(Object.entries(TRANSIENT_PROTOCOL_ERRORS))('names %s by the message kafkajs logs for it', (type, message) => {
    expect(kafkajsErrors.find((e) => e.type === type)?.message).toBe(message);
  });

  describe('given an error response of a broker that is still settling', () => {
    it.each([
      ['FindCoordinator(key: 10, version: 2)', TRANSIENT_PROTOCOL_ERRORS.GROUP_COORDINATOR_NOT_AVAILABLE],
      ['JoinGroup(key: 11, version: 5)', TRANSIENT_PROTOCOL_ERRORS.GROUP_LOAD_IN_PROGRESS],
      ['OffsetFetch(key: 9, version: 4)', TRANSIENT_PROTOCOL_ERRORS.NOT_COORDINATOR_FOR_GROUP],
      ['Metadata(key: 3, version: 6)', TRANSIENT_PROTOCOL_ERRORS.LEADER_NOT_AVAILABLE],
      ['Produce(key: 0, version: 7)', TRANSIENT_PROTOCOL_ERRORS.NOT_LEADER_FOR_PARTITION],
      ['Heartbeat(key: 12, version: 3)', TRANSIENT_PROTOCOL_ERRORS.REBALANCE_IN_PROGRESS],
      ['CreateTopics(key: 19, version: 3)', 'Topic creation errors'],
    ])('logs Response %s (%s) at debug', (request, error) => {
      expect(kafkaLogLevel('error', `Response ${request}`, { error, correlationId: 4 })).toBe('debug');
    });
  });

  it('keeps error responses that are not transient as errors', () => {
    const unsupported = kafkajsErrors.find((e) => e.type === 'UNSUPPORTED_VERSION')!.message;
    expect(kafkaLogLevel('error', 'Response Produce(key: 0, version: 7)', { error: unsupported })).toBe('error');
    expect(
      kafkaLogLevel('error', 'Response SaslAuthenticate(key: 36, version: 1)', {
        error: kafkajsErrors.find((e) => e.type === 'SASL_AUTHENTICATION_FAILED')!.message,
      }),
    ).toBe('error');
    // "Topic creation errors" only from creating topics.
    expect(
      kafkaLogLevel('error', 'Response DeleteTopics(key: 20, version: 1)', { error: 'Topic creation errors' }),
    ).toBe('error');
  });

  it('keeps failures that outlast the retries, and a broker out of reach, as errors', () => {
    const coordinator = TRANSIENT_PROTOCOL_ERRORS.GROUP_COORDINATOR_NOT_AVAILABLE;
    for (const message of [
      `Crash: KafkaJSNumberOfRetriesExceeded: ${coordinator}`,
      'Restarting the consumer in 300ms',
      'Failed to connect to seed broker, trying another broker from the list: Connection timeout',
      'Connection error: connect ECONNREFUSED 127.0.0.1:9092',
      'Error when calling eachBatch',
      coordinator,
    ]) {
      expect({ message, level: kafkaLogLevel('error', message, { error: coordinator }) }).toEqual({
        message,
        level: 'error',
      });
    }
  });

  it('logs notices of jobline’s deliberate producer settings at debug', () => {
    expect(
      kafkaLogLevel('warn', 'Limiting retries for the idempotent producer may invalidate EoS guarantees', {}),
    ).toBe('debug');
    expect(
      kafkaLogLevel(
        'warn',
        'KafkaJS v2.0.0 switched default partitioner. To retain the same partitioning behavior as in previous versions, …',
        {},
      ),
    ).toBe('debug');
  });

  it('logs a group rebalancing at info, and a consumer catching up with new partitions at debug', () => {
    expect(kafkaLogLevel('warn', 'The group is rebalancing, re-joining', { error: 'x' })).toBe('info');
    expect(kafkaLogLevel('warn', 'Consumer is not aware of all assigned partitions, refreshing metadata', {})).toBe(
      'debug',
    );
  });

  it('never raises a level', () => {
    for (const level of LEVELS) {
      for (const [message, fields] of [
        ['Response Metadata(key: 3, version: 6)', { error: TRANSIENT_PROTOCOL_ERRORS.LEADER_NOT_AVAILABLE }],
        ['The group is rebalancing, re-joining', {}],
        ['Something kafkajs says', {}],
      ] as const) {
        const to = kafkaLogLevel(level, message, fields);
        expect(LEVELS.indexOf(to)).toBeGreaterThanOrEqual(LEVELS.indexOf(level));
      }
    }
  });

  it('keeps the level of any other line', () => {
    for (const level of LEVELS) expect(kafkaLogLevel(level, 'Consumer has joined the group', {})).toBe(level);
  });
});
