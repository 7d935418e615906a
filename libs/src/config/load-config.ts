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
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => `  ${String(issue.path[0] ?? '(config)')}: ${issue.message}`);
  throw new JoblineError('CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`);
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
