import { canonicalField, withCanonicalFields } from './record-aliases';

const A = '0b8f3a52-9d7e-4c1b-8a7f-2f0c6d9e1a01';
const B = '6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

describe('withCanonicalFields', () => {
  it('renames id and the snake_case and camelCase relations to the fields they stand for, remembering how they came', () => {
    const { record, givenAs, conflicts } = withCanonicalFields('comments', {
      id: A,
      article_id: B,
      authorId: A,
      body: 'hi',
    });
    expect(record).toEqual({ externalId: A, articleExternalId: B, authorExternalId: A, body: 'hi' });
    expect(Object.fromEntries(givenAs)).toEqual({
      externalId: 'id',
      articleExternalId: 'article_id',
      authorExternalId: 'authorId',
    });
    expect(conflicts).toEqual([]);
  });

  it('leaves a record in jobline’s own names as it is', () => {
    const source = { externalId: A, authorExternalId: B, slug: 's', title: 't', body: 'b' };
    expect(withCanonicalFields('articles', source)).toEqual({ record: source, givenAs: new Map(), conflicts: [] });
  });

  it('takes an alias and its field that agree, and refuses them when they do not', () => {
    expect(withCanonicalFields('users', { id: A, externalId: A }).conflicts).toEqual([]);
    expect(withCanonicalFields('users', { id: A, externalId: B }).conflicts).toEqual([
      expect.objectContaining({ field: 'id', code: 'conflicting_alias' }),
    ]);
    expect(withCanonicalFields('articles', { author_id: A, authorId: B }).conflicts).toEqual([
      expect.objectContaining({ field: 'author_id', message: expect.stringContaining('authorId') }),
    ]);
  });

  it('knows only the aliases of the record’s own resource', () => {
    // A user has no author: `authorId` is an unknown key, which validation drops like any other.
    expect(withCanonicalFields('users', { id: A, authorId: B }).record).toEqual({ externalId: A, authorId: B });
  });

  it('keeps a `__proto__` key as a plain field, not as the record’s prototype', () => {
    const source = JSON.parse(`{"id": "${A}", "__proto__": {"externalId": "${B}"}}`) as Record<string, unknown>;
    const { record } = withCanonicalFields('users', source);
    expect(record.externalId).toBe(A);
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
  });
});

describe('canonicalField', () => {
  it('maps aliases and passes every other name through, inherited object keys included', () => {
    expect(canonicalField('articles', 'author_id')).toBe('authorExternalId');
    expect(canonicalField('articles', 'title')).toBe('title');
    expect(canonicalField('users', 'constructor')).toBe('constructor');
  });
});
