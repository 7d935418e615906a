import { useEffect, useState } from 'react';

/** A JSON Schema, as /openapi.json gives it. */
export type JsonSchema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  format?: string;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  $ref?: string;
};

export interface JobTypeSchema {
  type: string;
  /** The schema `payload` is validated with. */
  payload: JsonSchema;
}

let document: Promise<{ components?: { schemas?: Record<string, JsonSchema> } }> | null = null;

/** The API's own description, read once per page load. */
function openApiDocument() {
  document ??= fetch('/openapi.json').then((res) => {
    if (!res.ok) throw new Error(`/openapi.json answered ${res.status}`);
    return res.json();
  });
  return document;
}

/** Each job type and its payload schema, from `CreateJobRequest` in /openapi.json (one variant per type). */
export async function loadJobTypes(): Promise<JobTypeSchema[]> {
  const doc = await openApiDocument();
  const request = doc.components?.schemas?.CreateJobRequest;
  const variants = request?.oneOf ?? request?.anyOf ?? [];
  return variants.flatMap((variant) => {
    const type = variant.properties?.type?.const;
    return typeof type === 'string' ? [{ type, payload: variant.properties?.payload ?? {} }] : [];
  });
}

export function useJobTypes(): { types: JobTypeSchema[]; error: Error | null } {
  const [state, setState] = useState<{ types: JobTypeSchema[]; error: Error | null }>({ types: [], error: null });
  useEffect(() => {
    let live = true;
    loadJobTypes().then(
      (types) => live && setState({ types, error: null }),
      (error: unknown) =>
        live && setState({ types: [], error: error instanceof Error ? error : new Error(String(error)) }),
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}
