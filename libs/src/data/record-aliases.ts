import type { FieldIssue } from '../errors/jobline-error';
import type { Resource } from './data-resources';

/**
 * Other names of a record's fields, as files and requests written for the Bulk Data Import/Export API give them: a
 * record's own UUID as `id`, its relations as `author_id` / `authorId` and `article_id` / `articleId`. Imports read
 * them, exports take them in `fields` (and write the field under the name asked) and in `filters`, so that such a file
 * imports as it is and its export imports again. Each maps to the field jobline knows it by.
 */
export const FIELD_ALIASES: Record<Resource, Readonly<Record<string, string>>> = {
  users: { id: 'externalId' },
  articles: { id: 'externalId', authorId: 'authorExternalId', author_id: 'authorExternalId' },
  comments: {
    id: 'externalId',
    articleId: 'articleExternalId',
    article_id: 'articleExternalId',
    authorId: 'authorExternalId',
    author_id: 'authorExternalId',
  },
};

/** The field `name` stands for in a record of `resource`: itself, unless it is one of the resource's aliases. */
export function canonicalField(resource: Resource, name: string): string {
  const aliases = FIELD_ALIASES[resource];
  return Object.hasOwn(aliases, name) ? aliases[name]! : name;
}

export interface CanonicalRecord {
  /** The record with each alias given replaced by the field it stands for. */
  record: Record<string, unknown>;
  /** For each field given under an alias, that alias: so that a problem with the field names it as the file did. */
  givenAs: Map<string, string>;
  /** An alias and its field (or two aliases of one field) given with different values: the record is ambiguous. */
  conflicts: FieldIssue[];
}

/**
 * Renames a record's aliased fields to jobline's names. An alias whose field is given as well must hold the same
 * value; otherwise neither is taken and the record is reported, since either choice could import the wrong relation.
 */
export function withCanonicalFields(resource: Resource, source: Record<string, unknown>): CanonicalRecord {
  const aliases = FIELD_ALIASES[resource];
  // fromEntries defines a `__proto__` key as a field, where assigning it would replace the record's prototype.
  const record: Record<string, unknown> = Object.fromEntries(
    Object.entries(source).filter(([name]) => !Object.hasOwn(aliases, name)),
  );
  const givenAs = new Map<string, string>();
  const conflicts: FieldIssue[] = [];
  for (const [alias, field] of Object.entries(aliases)) {
    const value = source[alias];
    if (value === undefined) continue;
    if (record[field] === undefined) {
      record[field] = value;
      givenAs.set(field, alias);
    } else if (record[field] !== value) {
      conflicts.push({
        field: alias,
        message: `names the same field as ${givenAs.get(field) ?? field}, with another value`,
        code: 'conflicting_alias',
      });
    }
  }
  return { record, givenAs, conflicts };
}
