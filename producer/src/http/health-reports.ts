import { z } from 'zod';
import { json, named, operation } from './api-operation';

/** The body of `GET /health`. */
export const HealthReport = z.object({ status: z.literal('ok') });
export type HealthReport = z.infer<typeof HealthReport>;

export const CheckResult = z.discriminatedUnion('status', [
  z.object({ status: z.literal('up'), ms: z.number() }),
  z.object({ status: z.literal('down'), error: z.string() }),
]);
export type CheckResult = z.infer<typeof CheckResult>;

/** The body of `GET /ready`: one check per dependency (kafka, mongodb, redis). */
export const ReadinessReport = z.object({
  status: z.enum(['ready', 'unavailable']),
  checks: z.record(z.string(), CheckResult),
});
export type ReadinessReport = z.infer<typeof ReadinessReport>;

export const getHealth = operation('get', '/health', {
  operationId: 'getHealth',
  summary: 'Liveness',
  tags: ['operations'],
  auth: 'public',
  responses: { '200': { description: 'the process answers', ...json(named('HealthReport', HealthReport)) } },
});

const ReadinessBody = named('ReadinessReport', ReadinessReport);

export const getReadiness = operation('get', '/ready', {
  operationId: 'getReadiness',
  summary: 'Readiness of Kafka, MongoDB and Redis',
  tags: ['operations'],
  auth: 'public',
  responses: {
    '200': { description: 'every dependency answers', ...json(ReadinessBody) },
    '503': { description: 'a dependency is down', ...json(ReadinessBody) },
  },
});
