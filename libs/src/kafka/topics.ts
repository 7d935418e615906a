import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, ITopicConfig } from 'kafkajs';
import type { InfraConfig } from '../config/infra-config';
import { JoblineError } from '../errors/jobline-error';
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
  /** Every pause and resume of a tenant's work, keyed by tenant id, kept forever (see `pauses/`). */
  pauses: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    events: `${prefix}job-events`,
    dlq: `${prefix}job-dlq`,
    quarantine: `${prefix}job-events-quarantine`,
    delays: DELAY_TIERS_MS.map((tierMs) => ({ tierMs, topic: `${prefix}job-delay-${tierLabel(tierMs)}` })),
    schedules: `${prefix}schedule-events`,
    pauses: `${prefix}pause-events`,
  };
}

/** Every topic name of a layout, for listing or deleting them. */
export function allTopics(names: TopicNames): string[] {
  return [
    names.events,
    names.dlq,
    names.quarantine,
    ...names.delays.map((d) => d.topic),
    names.schedules,
    names.pauses,
  ];
}

export interface TopicLayout {
  eventPartitions: number;
  replicationFactor: number;
  /** Replicas that must have a write before it is acknowledged (`min.insync.replicas`); unset: the brokers' setting. */
  minInsyncReplicas?: number;
}

const KEEP_FOREVER = { name: 'retention.ms', value: '-1' };
/** A timer is consumed within its tier's hold; the retention only has to outlast a long outage of every runner. */
const KEEP_TIMERS = { name: 'retention.ms', value: String(30 * 24 * 3_600_000) };

export function topicConfigs(names: TopicNames, layout: TopicLayout): ITopicConfig[] {
  const { minInsyncReplicas, replicationFactor } = layout;
  // More in-sync replicas required than there are replicas: Kafka would refuse every write with acks=-1.
  if (minInsyncReplicas !== undefined && minInsyncReplicas > replicationFactor) {
    throw new JoblineError(
      'CONFIG_INVALID',
      `KAFKA_MIN_INSYNC_REPLICAS (${minInsyncReplicas}) is above KAFKA_REPLICATION_FACTOR (${replicationFactor}): ` +
        'no write could ever be acknowledged',
    );
  }
  const durability =
    minInsyncReplicas === undefined ? [] : [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }];
  const kept = (retention: { name: string; value: string }) => [retention, ...durability];
  return [
    {
      topic: names.events,
      numPartitions: layout.eventPartitions,
      replicationFactor,
      configEntries: kept(KEEP_FOREVER),
    },
    { topic: names.dlq, numPartitions: 1, replicationFactor, configEntries: kept(KEEP_FOREVER) },
    { topic: names.quarantine, numPartitions: 1, replicationFactor, configEntries: kept(KEEP_FOREVER) },
    ...names.delays.map(({ topic }) => ({
      topic,
      numPartitions: layout.eventPartitions,
      replicationFactor,
      configEntries: kept(KEEP_TIMERS),
    })),
    {
      topic: names.schedules,
      numPartitions: layout.eventPartitions,
      replicationFactor,
      configEntries: kept(KEEP_FOREVER),
    },
    // One partition: pauses come at the pace of people, every runner reads the whole topic at start-up, and one
    // partition gives every pause a single order. Kept forever rather than compacted: keyed by tenant, compaction would
    // keep only a tenant's latest event, which says nothing of its other paused job types; and the history of who
    // paused what, when, is the record an incident review reads. Its readers take any partition count: created with
    // more, each tenant's events still share one partition, in order, as long as the count is not changed later.
    { topic: names.pauses, numPartitions: 1, replicationFactor, configEntries: kept(KEEP_FOREVER) },
  ];
}

/**
 * Creates jobline's topics where missing. Existing topics are left as they are: the event topic's partition count is
 * fixed at creation, because the job id key decides the partition and changing the count would split a job's history;
 * moving existing topics to more replicas is Kafka's partition reassignment, an operator's step.
 */
export async function ensureTopics(admin: Admin, names: TopicNames, layout: TopicLayout, logger: Logger) {
  const wanted = topicConfigs(names, layout);
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    await admin.createTopics({ topics: missing, waitForLeaders: false });
    logger.info('created topics', { topics: missing.map((t) => t.topic) });
  }
  const metadata = await waitForLeaders(
    admin,
    wanted.map((t) => t.topic),
  );
  const partitions = metadata.topics.find((t) => t.name === names.events)?.partitions ?? [];
  if (partitions.length !== layout.eventPartitions) {
    logger.warn('event topic exists with another partition count; keeping it', {
      topic: names.events,
      partitions: partitions.length,
      configured: layout.eventPartitions,
    });
  }
  const replicas = partitions[0]?.replicas.length ?? 0;
  if (replicas !== layout.replicationFactor) {
    logger.warn('event topic exists with another replication factor; keeping it', {
      topic: names.events,
      replicas,
      configured: layout.replicationFactor,
    });
  }
  return { created: missing.map((t) => t.topic), eventPartitions: partitions.length };
}

/**
 * Waits until every partition of the topics has a leader that serves it, and gives their metadata. With several
 * brokers, a topic just created (by this process or another one starting beside it) may be known to the broker that
 * created it before the one answering a metadata request knows it (kafkajs's own wait gives up on that "unknown
 * topic"), and a partition's leader may be named before it hosts the partition ("This server does not host this
 * topic-partition"): each topic's offsets are read from its leaders, so that what a service asks first at start-up
 * finds the topics ready.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000) {
  const deadline = AbortSignal.timeout(timeoutMs);
  let lastError: unknown;
  while (!deadline.aborted) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      const led = metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0));
      if (metadata.topics.length === topics.length && led) {
        await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
        return metadata;
      }
    } catch (err) {
      lastError = err;
    }
    await sleep(100);
  }
  throw new JoblineError('KAFKA_UNAVAILABLE', `jobline's topics had no leaders within ${timeoutMs} ms`, {
    retryable: true,
    cause: lastError,
  });
}

/** Creates the topics named by a service's configuration; every service calls it at start-up. */
export function ensureConfiguredTopics(admin: Admin, config: InfraConfig, logger: Logger) {
  return ensureTopics(
    admin,
    topicNames(config.KAFKA_TOPIC_PREFIX),
    {
      eventPartitions: config.KAFKA_EVENT_PARTITIONS,
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      minInsyncReplicas: config.KAFKA_MIN_INSYNC_REPLICAS,
    },
    logger,
  );
}
