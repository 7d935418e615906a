package dev.jobline.stack;

import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.bson.Document;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;
import org.h2.mvstore.type.DataType;

/**
 * The MVStore types of the maps that hold documents and unique indexes. MVStore's default, ObjectDataType, writes
 * these with Java serialization, and compares KeyValue keys (not Comparable) by serializing both on every comparison
 * of a B-tree search; these write with ValueCodec and compare with BsonValueOrder.
 */
final class MongoDataTypes {
    /** A collection's documents, the map's values. */
    static final DataType<Document> DOCUMENT = new DocumentType();
    /** A document's position (its _id, or a UUID in a collection without _id): data map keys, index map values. */
    static final DataType<Object> VALUE = new ValueType();
    /** A unique index's key: the indexed fields' values, normalized by the index. */
    static final DataType<KeyValue> KEY = new KeyValueType();

    private MongoDataTypes() {}

    private static final class DocumentType extends BasicDataType<Document> {
        @Override
        public void write(WriteBuffer buff, Document document) {
            ValueCodec.writeDocument(buff, document);
        }

        @Override
        public Document read(ByteBuffer buff) {
            return ValueCodec.readDocument(buff);
        }

        @Override
        public int getMemory(Document document) {
            return ValueCodec.memory(document);
        }

        @Override
        public Document[] createStorage(int size) {
            return new Document[size];
        }
    }

    private static final class ValueType extends BasicDataType<Object> {
        @Override
        public int compare(Object a, Object b) {
            return BsonValueOrder.INSTANCE.compare(a, b);
        }

        @Override
        public void write(WriteBuffer buff, Object value) {
            ValueCodec.writeValue(buff, value);
        }

        @Override
        public Object read(ByteBuffer buff) {
            return ValueCodec.readValue(buff);
        }

        @Override
        public int getMemory(Object value) {
            return ValueCodec.memory(value);
        }

        @Override
        public Object[] createStorage(int size) {
            return new Object[size];
        }
    }

    private static final class KeyValueType extends BasicDataType<KeyValue> {
        @Override
        public int compare(KeyValue a, KeyValue b) {
            int size = Math.min(a.size(), b.size());
            for (int i = 0; i < size; i++) {
                int byValue = BsonValueOrder.INSTANCE.compare(a.get(i), b.get(i));
                if (byValue != 0) {
                    return byValue;
                }
            }
            return Integer.compare(a.size(), b.size());
        }

        @Override
        public void write(WriteBuffer buff, KeyValue key) {
            buff.putVarInt(key.size());
            for (Object value : key) {
                ValueCodec.writeValue(buff, value);
            }
        }

        @Override
        public KeyValue read(ByteBuffer buff) {
            int size = DataUtils.readVarInt(buff);
            List<Object> values = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                values.add(ValueCodec.readValue(buff));
            }
            return new KeyValue(values);
        }

        @Override
        public int getMemory(KeyValue key) {
            int memory = 48;
            for (Object value : key) {
                memory += 8 + ValueCodec.memory(value);
            }
            return memory;
        }

        @Override
        public KeyValue[] createStorage(int size) {
            return new KeyValue[size];
        }
    }
}
