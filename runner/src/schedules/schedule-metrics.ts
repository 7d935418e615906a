import { Gauge, Histogram, type Registry } from '@jobline/libs';

/** How late fires are: from the fire time to Kafka's acknowledgement of the fire's job. */
export function createScheduleMetrics(registry: Registry, firing: () => number) {
  const lateness = new Histogram({
    name: 'jobline_schedule_fire_lateness_seconds',
    help: 'Time from a fire time to the acknowledgement of its JobRequested by Kafka',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers: [registry],
  });
  new Gauge({
    name: 'jobline_schedules_firing',
    help: 'Schedules this runner fires (those of its partitions of the schedule topic)',
    registers: [registry],
    collect() {
      this.set(firing());
    },
  });
  return {
    fired(fireAt: number, acknowledgedAt: number) {
      lateness.observe(Math.max(0, acknowledgedAt - fireAt) / 1000);
    },
  };
}
