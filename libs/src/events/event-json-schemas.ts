import { z } from 'zod';
import { TimerMessage } from '../scheduling/timer-message';
import { PauseEvent } from '../pauses/pause-events';
import { ScheduleEvent } from '../schedules/schedule-events';
import { DeadLetter } from './dead-letter';
import { JobEvent } from './job-events';

/**
 * The JSON Schema (draft 2020-12) of every message jobline writes to Kafka, by name: one per event type of
 * `jobline.job-events`, the dead letters of `jobline.job-dlq`, the timers of `jobline.job-delay-*`, the schedule
 * changes of `jobline.schedule-events` and the pauses and resumes of `jobline.pause-events`. Generated from the zod
 * schemas the services decode with, for consumers outside TypeScript. They describe what a reader accepts (zod's input
 * side): unknown fields are allowed, as events gain optional fields over time.
 */
export function kafkaMessageJsonSchemas(): Record<string, Record<string, unknown>> {
  const messages: Record<string, z.ZodType> = Object.fromEntries(
    JobEvent.options.map((schema) => [schema.shape.type.value, schema]),
  );
  for (const schema of ScheduleEvent.options) messages[schema.shape.type.value] = schema;
  for (const schema of PauseEvent.options) messages[schema.shape.type.value] = schema;
  messages.DeadLetter = DeadLetter;
  messages.TimerMessage = TimerMessage;
  return Object.fromEntries(
    Object.entries(messages).map(([name, schema]) => [
      name,
      { ...z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }), title: name },
    ]),
  );
}
