import { JoblineError } from '../errors/jobline-error';
import { topicConfigs, topicNames } from './topics';

const names = topicNames('jobline.');
const setting = (entries: { name: string; value: string }[] | undefined, name: string) =>
  entries?.find((entry) => entry.name === name)?.value;

describe('topicConfigs', () => {
  it('gives every topic the replication factor and, when set, min.insync.replicas', () => {
    const topics = topicConfigs(names, { eventPartitions: 6, replicationFactor: 3, minInsyncReplicas: 2 });

    expect(topics.map((t) => t.replicationFactor)).toEqual(topics.map(() => 3));
    expect(topics.map((t) => setting(t.configEntries, 'min.insync.replicas'))).toEqual(topics.map(() => '2'));
    expect(setting(topics.find((t) => t.topic === names.events)?.configEntries, 'retention.ms')).toBe('-1');
  });

  it("leaves min.insync.replicas to the brokers' setting when it is not set", () => {
    const topics = topicConfigs(names, { eventPartitions: 6, replicationFactor: 1 });

    expect(topics.map((t) => setting(t.configEntries, 'min.insync.replicas'))).toEqual(topics.map(() => undefined));
    expect(topics.map((t) => setting(t.configEntries, 'retention.ms'))).not.toContain(undefined);
  });

  it('refuses more in-sync replicas than replicas, naming both settings', () => {
    const create = () => topicConfigs(names, { eventPartitions: 6, replicationFactor: 1, minInsyncReplicas: 2 });

    expect(create).toThrow(JoblineError);
    expect(create).toThrow(/KAFKA_MIN_INSYNC_REPLICAS \(2\) is above KAFKA_REPLICATION_FACTOR \(1\)/);
  });
});
