import { JoblineError } from '@jobline/libs';
import { importManuscript } from './import-manuscript';

describe('importManuscript', () => {
  it('takes a leading # heading as the book title and splits chapters at ## headings', () => {
    const book = importManuscript(
      [
        '# The Log',
        '',
        '## Events',
        '',
        'Every change is an *event*.',
        '',
        '### A detail',
        '',
        'Deeper headings stay in the chapter.',
        '',
        '## Partitions',
        '',
        '```md',
        '## not a chapter, a code block',
        '```',
        '',
      ].join('\n'),
      { author: 'Ada' },
    );
    expect(book).toEqual({
      title: 'The Log',
      author: 'Ada',
      language: 'en',
      chapters: [
        {
          title: 'Events',
          markdown: 'Every change is an *event*.\n\n### A detail\n\nDeeper headings stay in the chapter.',
        },
        { title: 'Partitions', markdown: '```md\n## not a chapter, a code block\n```' },
      ],
    });
  });

  it('splits at # headings when there are several, the title coming from front matter', () => {
    const book = importManuscript(
      '---\ntitle: "Two: Parts"\nauthor: Ada\nlanguage: fr-ca\n---\n# Un\n\nPremier.\n\n# Deux\n\n## Section\n\nSecond.\n',
    );
    expect(book).toEqual({
      title: 'Two: Parts',
      author: 'Ada',
      language: 'fr-CA',
      chapters: [
        { title: 'Un', markdown: 'Premier.' },
        { title: 'Deux', markdown: '## Section\n\nSecond.' },
      ],
    });
  });

  it('takes chapter titles as plain text, from ATX and setext headings alike', () => {
    const book = importManuscript('# Book\n\n## The *first* `one`\n\nA.\n\nThe second\n----------\n\nB.', {
      author: 'Ada',
    });
    expect(book.chapters).toEqual([
      { title: 'The first one', markdown: 'A.' },
      { title: 'The second', markdown: 'B.' },
    ]);
  });

  it('keeps text before the first chapter as an opening chapter named after the book', () => {
    const book = importManuscript('# Book\n\nA foreword.\n\n## One\n\nText.', { author: 'Ada' });
    expect(book.chapters).toEqual([
      { title: 'Book', markdown: 'A foreword.' },
      { title: 'One', markdown: 'Text.' },
    ]);
  });

  it('makes a manuscript without headings one chapter, titled from the defaults', () => {
    const book = importManuscript('Just text.\r\n\r\nMore text.\r\n', {
      title: 'Notes',
      author: 'Ada',
      language: 'de',
    });
    expect(book).toEqual({
      title: 'Notes',
      author: 'Ada',
      language: 'de',
      chapters: [{ title: 'Notes', markdown: 'Just text.\n\nMore text.' }],
    });
  });

  it('does not split at headings inside block quotes or lists', () => {
    const book = importManuscript('# Book\n\n## One\n\n> ## Quoted\n\n- ## Listed\n', { author: 'Ada' });
    expect(book.chapters).toEqual([{ title: 'One', markdown: '> ## Quoted\n\n- ## Listed' }]);
  });

  it('rejects a manuscript without a title, naming what is missing', () => {
    expect(() => importManuscript('Text only.', { author: 'Ada' })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/no book title/) }),
    );
  });

  it('rejects a manuscript without an author, naming the field', () => {
    try {
      importManuscript('# Book\n\n## One\n\nText.');
      throw new Error('expected a rejection');
    } catch (err) {
      expect(err).toBeInstanceOf(JoblineError);
      expect((err as JoblineError).retryable).toBe(false);
      expect((err as JoblineError).details.map((d) => d.field)).toEqual(['author']);
    }
  });

  it('rejects front matter that is not YAML and a language that is not BCP 47', () => {
    expect(() => importManuscript('---\ntitle: [unclosed\n---\n# One\n', { author: 'Ada' })).toThrow(
      /front matter is not YAML/,
    );
    expect(() => importManuscript('# Book\n\n## One\n', { author: 'Ada', language: 'not a tag' })).toThrow(
      /language: not a BCP 47 language tag/,
    );
  });
});
