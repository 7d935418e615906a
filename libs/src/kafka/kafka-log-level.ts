export type KafkaLogLevel = 'error' | 'warn' | 'info' | 'debug';

/**
 * Protocol errors a broker answers while it, a consumer group or a new topic is still settling: a coordinator loading
 * its group state after a start, a leader being elected, metadata not yet spread to every broker, a group
 * rebalancing, a controller moving. kafkajs retries each of them itself, and a caller whose retries run out gets the
 * error (and logs it); what kafkajs logs on the way names the error by its message only, so these are its messages
 * (`kafkajs/src/protocol/error.js`, held to that table by the unit test).
 */
export const TRANSIENT_PROTOCOL_ERRORS = {
  GROUP_LOAD_IN_PROGRESS: "The coordinator is loading and hence can't process requests for this group",
  GROUP_COORDINATOR_NOT_AVAILABLE: 'The group coordinator is not available',
  NOT_COORDINATOR_FOR_GROUP: 'This is not the correct coordinator for this group',
  LEADER_NOT_AVAILABLE: 'There is no leader for this topic-partition as we are in the middle of a leadership election',
  NOT_LEADER_FOR_PARTITION: 'This server is not the leader for that topic-partition',
  UNKNOWN_TOPIC_OR_PARTITION: 'This server does not host this topic-partition',
  REBALANCE_IN_PROGRESS: 'The group is rebalancing, so a rejoin is needed',
  NOT_CONTROLLER: 'This is not the correct controller for this cluster',
} as const;

const TRANSIENT_MESSAGES = new Set<string>(Object.values(TRANSIENT_PROTOCOL_ERRORS));

/**
 * kafkajs lines that say nothing wrong, at the level they deserve. Keys are kafkajs's messages, exactly.
 */
const NOTICES: Record<string, KafkaLogLevel> = {
  // The event publisher bounds its retries on purpose: a caller answers 503 instead of waiting on Kafka forever.
  'Limiting retries for the idempotent producer may invalidate EoS guarantees': 'debug',
  // Members joining or leaving (a second runner, a restart) make the group rebalance: worth a line, not a warning.
  'The group is rebalancing, re-joining': 'info',
  // A consumer assigned partitions of a topic created moments ago refreshes its metadata and carries on.
  'Consumer is not aware of all assigned partitions, refreshing metadata': 'debug',
  'Topic has been updated, resync group': 'debug',
};

/** kafkajs's one-time notice that its default partitioner changed in v2; jobline's producers name theirs. */
const PARTITIONER_NOTICE = 'KafkaJS v2.0.0 switched default partitioner';

const RANK: Record<KafkaLogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * The level a kafkajs log entry is written at. A healthy start logs no error: the transient states of a broker or a
 * group that kafkajs retries through are debug (the failure, if retries run out, reaches the caller, which logs it),
 * notices of deliberate settings are debug, and everything else keeps kafkajs's level. Never raises a level.
 */
export function kafkaLogLevel(level: KafkaLogLevel, message: string, fields: Record<string, unknown>): KafkaLogLevel {
  const lower = (to: KafkaLogLevel) => (RANK[to] > RANK[level] ? to : level);
  const error = typeof fields.error === 'string' ? fields.error : undefined;
  // A connection logs every error response (`Response Metadata(key: 3, version: 6)`) before kafkajs retries it.
  if (message.startsWith('Response ') && error !== undefined) {
    if (TRANSIENT_MESSAGES.has(error)) return lower('debug');
    // Services creating the same topics at once: kafkajs accepts "already exists" and passes any other error on.
    if (message.startsWith('Response CreateTopics(') && error === 'Topic creation errors') return lower('debug');
  }
  const notice = NOTICES[message];
  if (notice) return lower(notice);
  if (message.startsWith(PARTITIONER_NOTICE)) return lower('debug');
  return level;
}
