import type { Admin, ITopicConfig } from 'kafkajs';
import type { InfraConfig } from '../config/infra-config';
import type { Logger } from '../logging/logger';
import { DELAY_TIERS_MS, tierLabel } from '../scheduling/delay-tiers';

export interface TopicNames {
  /** The system of record: every event of every job, keyed by job id, kept forever. */
  events: string;
  /** Dead letters: the full request and last error of jobs that ran out of attempts. */
  dlq: string;
  /** Messages on the event topic that could not be decoded or validated, kept for inspection. */
  quarantine: string;
  /** Durable timers, one topic per delay tier (see `scheduling/delay-tiers.ts`), smallest tier first. */
  delays: { tierMs: number; topic: string }[];
  /** Every change of every schedule, keyed by schedule id, kept forever (see `schedules/`). */
  schedules: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    events: `${prefix}job-events`,
    dlq: `${prefix}job-dlq`,
    quarantine: `${prefix}job-events-quarantine`,
    delays: DELAY_TIERS_MS.map((tierMs) => ({ tierMs, topic: `${prefix}job-delay-${tierLabel(tierMs)}` })),
    schedules: `${prefix}schedule-events`,
  };
}

/** Every topic name of a layout, for listing or deleting them. */
export function allTopics(names: TopicNames): string[] {
  return [names.events, names.dlq, names.quarantine, ...names.delays.map((d) => d.topic), names.schedules];
}

export interface TopicLayout {
  eventPartitions: number;
  replicationFactor: number;
}

const KEEP_FOREVER = [{ name: 'retention.ms', value: '-1' }];
/** A timer is consumed within its tier's hold; the retention only has to outlast a long outage of every runner. */
const KEEP_TIMERS = [{ name: 'retention.ms', value: String(30 * 24 * 3_600_000) }];

export function topicConfigs(names: TopicNames, layout: TopicLayout): ITopicConfig[] {
  return [
    {
      topic: names.events,
      numPartitions: layout.eventPartitions,
      replicationFactor: layout.replicationFactor,
      configEntries: KEEP_FOREVER,
    },
    { topic: names.dlq, numPartitions: 1, replicationFactor: layout.replicationFactor, configEntries: KEEP_FOREVER },
    {
      topic: names.quarantine,
      numPartitions: 1,
      replicationFactor: layout.replicationFactor,
      configEntries: KEEP_FOREVER,
    },
    ...names.delays.map(({ topic }) => ({
      topic,
      numPartitions: layout.eventPartitions,
      replicationFactor: layout.replicationFactor,
      configEntries: KEEP_TIMERS,
    })),
    {
      topic: names.schedules,
      numPartitions: layout.eventPartitions,
      replicationFactor: layout.replicationFactor,
      configEntries: KEEP_FOREVER,
    },
  ];
}

/**
 * Creates jobline's topics where missing. Existing topics are left as they are: the event topic's partition count is
 * fixed at creation, because the job id key decides the partition and changing the count would split a job's history.
 */
export async function ensureTopics(admin: Admin, names: TopicNames, layout: TopicLayout, logger: Logger) {
  const wanted = topicConfigs(names, layout);
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    await admin.createTopics({ topics: missing, waitForLeaders: true });
    logger.info('created topics', { topics: missing.map((t) => t.topic) });
  }
  const metadata = await admin.fetchTopicMetadata({ topics: [names.events] });
  const partitions = metadata.topics[0]?.partitions.length ?? 0;
  if (partitions !== layout.eventPartitions) {
    logger.warn('event topic exists with another partition count; keeping it', {
      topic: names.events,
      partitions,
      configured: layout.eventPartitions,
    });
  }
  return { created: missing.map((t) => t.topic), eventPartitions: partitions };
}

/** Creates the topics named by a service's configuration; every service calls it at start-up. */
export function ensureConfiguredTopics(admin: Admin, config: InfraConfig, logger: Logger) {
  return ensureTopics(
    admin,
    topicNames(config.KAFKA_TOPIC_PREFIX),
    { eventPartitions: config.KAFKA_EVENT_PARTITIONS, replicationFactor: config.KAFKA_REPLICATION_FACTOR },
    logger,
  );
}
