import { Book } from '../book';

/**
 * A small book that touches every construct the writers lay out, and the characters that break careless XML: raw
 * HTML, entities, ampersands, a relative link, an image, non-Latin text.
 */
export const SAMPLE_BOOK: Book = Book.parse({
  title: 'The Pipeline & the Log',
  author: 'Ada Q. Writer',
  language: 'en-GB',
  chapters: [
    {
      title: 'Events, Not State',
      markdown: `Every change is an **event**; the state is a *fold* of them. Read [the spec](https://example.org/spec)
or the [appendix](appendix.html), and mind the <script>alert("x")</script> that a careless writer would run.

A line that ends with two spaces  
breaks here. Entities stay text: &nbsp; &copy; & < >.

![A diagram of the log](log.png)

- first point
- second point, with \`inline code\`
  1. nested one
  2. nested two
- third point

> A quotation, set apart.
> It spans two lines.

\`\`\`ts
const state = events.reduce(evolve, initialState());
\`\`\`
`,
    },
    {
      title: 'Partitions & <Order>',
      markdown: `## Keys

A job's events share a key, so they share a partition, so they keep their order. ~~Ordering is global~~ is a myth.

| term | meaning |
| --- | --- |
| key | the job id |
| offset | a position in a partition |

---

3. three
4. four

Grüße, naïve café — “quoted” and 日本語, and a bell\u0007 that XML cannot hold.
`,
    },
    {
      title: 'Replay',
      markdown: Array.from(
        { length: 40 },
        (_, i) =>
          `Paragraph ${i + 1} of the replay chapter. Replaying the topic from the beginning into an empty database gives the same documents, and that is what makes the projection disposable.`,
      ).join('\n\n'),
    },
  ],
});
