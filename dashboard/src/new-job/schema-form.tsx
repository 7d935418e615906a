import { Fieldset, JsonInput, NumberInput, Select, Stack, Switch, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { JsonSchema } from '../api/job-types';

export type FormValue = Record<string, unknown>;
/** Field errors by path (`payload.ms`), as the API names them. */
export type FieldErrors = Readonly<Record<string, string>>;

const typeOf = (schema: JsonSchema): string | undefined =>
  Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;

const choices = (schema: JsonSchema): string[] | null => {
  if (schema.enum?.every((v) => typeof v === 'string')) return schema.enum as string[];
  if (typeof schema.const === 'string') return [schema.const];
  return null;
};

/** Whether the form can draw this object field by field; otherwise it is edited as JSON. */
export function isSimpleObject(schema: JsonSchema): boolean {
  return typeOf(schema) === 'object' && Boolean(schema.properties) && !schema.oneOf && !schema.anyOf;
}

/** A JSON value that satisfies the schema's required fields where it can tell: a start for editing. */
export function templateOf(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return schema.default;
  const variant = schema.oneOf?.[0] ?? schema.anyOf?.[0];
  if (variant) return templateOf({ ...variant, ...(schema.properties ? { properties: schema.properties } : {}) });
  const options = choices(schema);
  if (options) return options[0];
  switch (typeOf(schema)) {
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((name) => [name, templateOf(schema.properties?.[name] ?? {})]),
      );
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return schema.minimum ?? 0;
    case 'boolean':
      return false;
    case 'string':
      return '';
    default:
      return null;
  }
}

function label(name: string, schema: JsonSchema, required: boolean) {
  return { label: name, description: schema.description, withAsterisk: required };
}

/** A JSON editor for a value the form cannot draw field by field; it reports only values that parse. */
export function JsonField({
  name,
  schema,
  value,
  required,
  error,
  onChange,
}: {
  name: string;
  schema: JsonSchema;
  value: unknown;
  required: boolean;
  error?: string;
  onChange(value: unknown): void;
}) {
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value, null, 2)));
  const [invalid, setInvalid] = useState(false);
  return (
    <JsonInput
      {...label(name, schema, required)}
      value={text}
      onChange={(next) => {
        setText(next);
        if (next.trim() === '') {
          setInvalid(false);
          onChange(undefined);
          return;
        }
        try {
          onChange(JSON.parse(next));
          setInvalid(false);
        } catch {
          setInvalid(true);
        }
      }}
      error={invalid ? 'not valid JSON' : error}
      formatOnBlur
      autosize
      minRows={3}
      maxRows={16}
      placeholder={JSON.stringify(templateOf(schema))}
    />
  );
}

/** One field of an object schema. */
function Field(props: {
  name: string;
  path: string;
  schema: JsonSchema;
  required: boolean;
  value: unknown;
  errors: FieldErrors;
  onChange(value: unknown): void;
}) {
  const { name, path, schema, required, value, errors, onChange } = props;
  const error = errors[path];
  const options = choices(schema);
  if (options) {
    return (
      <Select
        {...label(name, schema, required)}
        data={options}
        value={typeof value === 'string' ? value : null}
        onChange={(v) => onChange(v ?? undefined)}
        clearable={!required}
        error={error}
      />
    );
  }
  switch (typeOf(schema)) {
    case 'string':
      return (
        <TextInput
          {...label(name, schema, required)}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.currentTarget.value === '' ? undefined : e.currentTarget.value)}
          placeholder={
            schema.format === 'date-time' ? '2030-01-01T00:00:00Z' : schema.format === 'uri' ? 'https://' : undefined
          }
          error={error}
        />
      );
    case 'integer':
    case 'number':
      return (
        <NumberInput
          {...label(name, schema, required)}
          value={typeof value === 'number' ? value : ''}
          onChange={(v) => onChange(typeof v === 'number' ? v : undefined)}
          min={schema.minimum}
          max={schema.maximum}
          allowDecimal={typeOf(schema) === 'number'}
          error={error}
        />
      );
    case 'boolean':
      return (
        <Switch
          label={name}
          description={schema.description}
          checked={value === true}
          onChange={(e) => onChange(e.currentTarget.checked)}
          error={error}
        />
      );
    default:
      if (isSimpleObject(schema)) {
        return (
          <Fieldset legend={name}>
            <SchemaFields
              schema={schema}
              path={path}
              value={(value as FormValue | undefined) ?? {}}
              errors={errors}
              onChange={(v) => onChange(Object.keys(v).length > 0 ? v : undefined)}
            />
          </Fieldset>
        );
      }
      return (
        <JsonField name={name} schema={schema} value={value} required={required} error={error} onChange={onChange} />
      );
  }
}

/**
 * The fields of an object schema as form inputs: text, numbers, choices and switches, nested objects as field sets,
 * and anything the form cannot draw (unions, arrays, free JSON) as a JSON editor. Empty optional fields are left out.
 */
export function SchemaFields({
  schema,
  path,
  value,
  errors,
  onChange,
}: {
  schema: JsonSchema;
  path: string;
  value: FormValue;
  errors: FieldErrors;
  onChange(value: FormValue): void;
}) {
  return (
    <Stack gap="sm">
      {Object.entries(schema.properties ?? {}).map(([name, property]) => (
        <Field
          key={name}
          name={name}
          path={`${path}.${name}`}
          schema={property}
          required={schema.required?.includes(name) ?? false}
          value={value[name]}
          errors={errors}
          onChange={(next) => {
            const { [name]: _previous, ...rest } = value;
            onChange(next === undefined ? rest : { ...rest, [name]: next });
          }}
        />
      ))}
    </Stack>
  );
}
