package dev.jobline.stack;

import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.bson.Document;
import java.util.function.Supplier;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * CompactH2Backend's collection: H2Collection with two changes to how it reads.
 *
 * <p>A scan holds on to the MVStore version it started from. On a large collection that takes seconds, while the
 * background writer rewrites chunks and drops those that only older versions still use, which it may do a few versions
 * later unless the reader registered its version (MVStore's contract, kept by H2's own SQL layer, not by
 * H2Collection). Unregistered, a full scan during an import of a million records failed with "Chunk N not found", on
 * H2 2.3.232 and 2.5.252 alike. So every query (query results are collected before queryDocuments returns), index
 * build and position search registers the version it reads.
 *
 * <p>A query on _id and more finds its candidates through the _id index. The stock collection uses an index only for a
 * query on exactly that index's fields, so { _id, 'position.offset' } (the persister's conditional replace) read the
 * whole collection. Top-level conditions are all ANDed, so the documents the _id index finds for the _id condition
 * alone include every match; the whole query is then applied to them.
 */
final class CompactH2Collection extends H2Collection {
    private static final String ID_FIELD = "_id";

    private final MVStore store;

    CompactH2Collection(MongoDatabase database, String collectionName, CollectionOptions options,
                        MVMap<Object, Document> documents, MVMap<String, Object> meta, MVStore store,
                        CursorRegistry cursorRegistry) {
        super(database, collectionName, options, documents, meta, cursorRegistry);
        this.store = store;
    }

    @Override
    protected QueryResult queryDocuments(Document query, Document orderBy, int numberToSkip, int limit, int batchSize,
                                         Document fieldSelector) {
        return readingOneVersion(() -> {
            Document idCondition = idConditionOf(query);
            if (idCondition != null) {
                for (Index<Object> index : getIndexes()) {
                    if (index.canHandle(idCondition)) {
                        return matchDocuments(query, index.getPositions(idCondition), orderBy, numberToSkip, limit,
                            batchSize, fieldSelector);
                    }
                }
            }
            return super.queryDocuments(query, orderBy, numberToSkip, limit, batchSize, fieldSelector);
        });
    }

    @Override
    public void addIndex(Index<Object> index) {
        readingOneVersion(() -> {
            super.addIndex(index);
            return null;
        });
    }

    @Override
    protected Object findDocumentPosition(Document document) {
        return readingOneVersion(() -> super.findDocumentPosition(document));
    }

    private <T> T readingOneVersion(Supplier<T> read) {
        MVStore.TxCounter reading = store.registerVersionUsage();
        try {
            return read.get();
        } finally {
            store.deregisterVersionUsage(reading);
        }
    }

    /** The query's condition on _id alone, when it has one beside others; null otherwise. */
    private static Document idConditionOf(Document query) {
        if (query.size() > 1 && query.containsKey(ID_FIELD)) {
            return new Document(ID_FIELD, query.get(ID_FIELD));
        }
        return null;
    }
}
