import { foldEvents, type ProjectedDocument, type Projection } from './fold-projection';

/** A tally per key: `open` starts one, `add` counts, and `add` on a key never opened cannot apply. */
type TallyEvent = { type: 'open' | 'add'; key: string; by: number };
type Tally = { key: string; total: number };

const tally: Projection<TallyEvent, Tally> = {
  noun: 'tally',
  decode: () => ({ ok: false, reason: 'not used here' }),
  keyOf: (event) => event.key,
  evolve: (state, event) => {
    if (event.type === 'open') return { key: event.key, total: event.by };
    return state ? { ...state, total: state.total + event.by } : null;
  },
  fromDocument: ({ _id: _ignored, position: _position, ...state }) => state,
};

const at = (offset: number, event: TallyEvent) => ({ event, position: { partition: 0, offset } });
const held = (key: string, total: number, offset: number): ProjectedDocument<Tally> => ({
  key,
  total,
  _id: key,
  position: { partition: 0, offset },
});

describe('folding a batch of events into documents by key', () => {
  it('applies each key’s events in order, and writes each changed document once, conditional on its offset before the batch', () => {
    const current = new Map([['a', held('a', 1, 3)]]);

    const { applied, changed } = foldEvents(tally, current, [
      at(4, { type: 'add', key: 'a', by: 2 }),
      at(5, { type: 'open', key: 'b', by: 10 }),
      at(6, { type: 'add', key: 'a', by: 4 }),
    ]);

    expect(changed).toEqual([
      { doc: held('a', 7, 6), previousOffset: 3 },
      { doc: held('b', 10, 5), previousOffset: null },
    ]);
    expect(applied.map((a) => [a.position.offset, a.before?.total ?? null, a.after.total])).toEqual([
      [4, 1, 3],
      [5, null, 10],
      [6, 3, 7],
    ]);
    expect(current.get('a')).toEqual(held('a', 7, 6));
  });

  it('skips events at or before the position a document holds, so a redelivered batch changes nothing', () => {
    const events = [at(4, { type: 'add', key: 'a', by: 2 } as const), at(5, { type: 'add', key: 'a', by: 3 } as const)];
    const current = new Map([['a', held('a', 1, 3)]]);
    foldEvents(tally, current, events);

    const again = foldEvents(tally, current, events);

    expect(again).toEqual({ applied: [], changed: [] });
    expect(current.get('a')).toEqual(held('a', 6, 5));
  });

  it('reports and leaves out an event its evolve cannot apply', () => {
    const ignored: string[] = [];

    const { changed } = foldEvents(tally, new Map(), [at(0, { type: 'add', key: 'x', by: 1 })], (key, event, p) =>
      ignored.push(`${key} ${event.type} ${p.partition}:${p.offset}`),
    );

    expect(changed).toEqual([]);
    expect(ignored).toEqual(['x add 0:0']);
  });
});
