package dev.jobline.stack;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import java.util.List;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * mongo-java-server's H2 backend with its documents and unique indexes stored in MVMaps of MongoDataTypes, instead
 * of MVStore's Java-serializing default. A data file written by the stock backend cannot be read by this one, nor
 * the other way round: the map names are the same, the bytes are not. So a store is marked with its format when
 * first opened, and one with databases but no mark is refused.
 */
final class CompactH2Backend extends H2Backend {
    /** Not a name H2Database could take for one of its own: a database name cannot hold '$'. */
    private static final String FORMAT_MAP = "$jobline.format";
    private static final String FORMAT_KEY = "encoding";
    private static final String FORMAT = "jobline-v2";

    /**
     * The names H2Database gives its maps; its own drop and rename code opens them by these names, and MVStore hands
     * back the map already open, with its types.
     */
    private static final String DATA_PREFIX = "databases.";
    private static final String META_PREFIX = "meta.";
    private static final String INDEX_INFIX = "._index_";

    private CompactH2Backend(MVStore store) {
        super(store);
    }

    /**
     * Opens the databases in the store. Fails on a store in another format before reading or writing anything in it.
     */
    static CompactH2Backend open(MVStore store) {
        if (!store.hasMap(FORMAT_MAP) && store.getMapNames().stream().anyMatch(name -> name.startsWith(DATA_PREFIX))) {
            throw new IllegalStateException("it holds databases in the stock H2 backend's format, which this server "
                + "cannot read");
        }
        MVMap<String, String> format = store.openMap(FORMAT_MAP);
        String found = format.putIfAbsent(FORMAT_KEY, FORMAT);
        if (found != null && !found.equals(FORMAT)) {
            throw new IllegalStateException("it is in format " + found + ", not " + FORMAT);
        }
        return new CompactH2Backend(store);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return new Database(databaseName);
    }

    /**
     * An inner class for a reason: H2Database's constructor already opens the existing collections and indexes
     * through the overrides below, before any field of a subclass is set, while the enclosing instance (and so the
     * store) is set before the superclass constructor runs.
     */
    private final class Database extends H2Database {
        Database(String databaseName) {
            super(databaseName, getMvStore(), getCursorRegistry());
        }

        @Override
        protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
            String fullName = getFullCollectionNamespace(collectionName);
            MVMap<Object, Document> documents = getMvStore().openMap(DATA_PREFIX + fullName,
                new MVMap.Builder<Object, Document>().keyType(MongoDataTypes.VALUE).valueType(MongoDataTypes.DOCUMENT));
            MVMap<String, Object> meta = getMvStore().openMap(META_PREFIX + fullName);
            return new CompactH2Collection(this, collectionName, options, documents, meta, getMvStore(),
                cursorRegistry);
        }

        @Override
        protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                        boolean sparse) {
            String mapName = getFullCollectionNamespace(collectionName) + INDEX_INFIX + indexName;
            MVMap<KeyValue, Object> positions = getMvStore().openMap(mapName,
                new MVMap.Builder<KeyValue, Object>().keyType(MongoDataTypes.KEY).valueType(MongoDataTypes.VALUE));
            return new MVMapUniqueIndex(positions, indexName, keys, sparse);
        }
    }
}
