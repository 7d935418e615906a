import { z } from 'zod';
import { JoblineError } from '../errors/jobline-error';

export type Env = Record<string, string | undefined>;

/**
 * Parses environment variables with a zod object whose keys are the variable names. Empty strings count as unset, so
 * that `FOO=` in a compose file falls back to the default. Fails fast with one line per offending variable.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Env = process.env): z.infer<S> {
  const input: Env = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value;
  }
  const parsed = schema.safeParse(input);
  const lines = parsed.success
    ? unmetConditions(schema, parsed.data as Record<string, unknown>)
    : parsed.error.issues.map((issue) => `  ${String(issue.path[0] ?? '(config)')}: ${issue.message}`);
  if (parsed.success && lines.length === 0) return parsed.data;
  throw new JoblineError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
}

interface Condition {
  variable: string;
  equals: string;
}

const conditions = new WeakMap<z.ZodType, Condition>();

/**
 * Marks an optional variable as required while another variable has a given value (a bucket when the blob store is
 * `s3`). Kept beside the schema rather than as an object refinement, which zod would not let services extend or pick.
 */
export function requiredWhen<T extends z.ZodType>(field: T, condition: Condition): T {
  conditions.set(field, condition);
  return field;
}

function unmetConditions(schema: z.ZodObject, config: Record<string, unknown>): string[] {
  return Object.entries(schema.shape).flatMap(([key, field]) => {
    const condition = conditions.get(field as z.ZodType);
    if (!condition || config[condition.variable] !== condition.equals || config[key] !== undefined) return [];
    return [`  ${key}: required when ${condition.variable} is ${condition.equals}`];
  });
}

/** A positive integer read from an environment variable. */
export const envInt = (defaultValue: number, min = 1, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(defaultValue);

/** A comma-separated list read from an environment variable. */
export const envList = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((s) =>
      s
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    );

/** A boolean read from an environment variable: `true`/`false`, `1`/`0`, `yes`/`no`. */
export const envBool = () =>
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' }))
    .transform((value) => ['true', '1', 'yes'].includes(value));
