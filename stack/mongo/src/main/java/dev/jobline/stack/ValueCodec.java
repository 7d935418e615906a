package dev.jobline.stack;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.BsonJavaScript;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Decimal128;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.bson.LegacyUUID;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;
import de.bwaldvogel.mongo.bson.ObjectId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;

/**
 * How documents and values are laid out in the data file: a type tag, then the value. Like BSON (strings are UTF-8,
 * so an unpaired surrogate, which BSON cannot carry either, comes back as '?'), but it gives back exactly the Java
 * value that was stored, which is what the server compares and indexes: an Integer stays an Integer, a date keeps its
 * nanoseconds ($currentDate stores Instant.now()), a missing value stays Missing.
 *
 * <p>Writing must not fail: MVStore serializes pages on its background writer, long after the put that changed
 * them, and an exception there stops the store. So a value of a type without a tag (none that the server stores
 * today) is written with Java serialization, as the stock backend writes everything.
 */
final class ValueCodec {
    private static final byte NULL = 0;
    private static final byte MISSING = 1;
    private static final byte FALSE = 2;
    private static final byte TRUE = 3;
    private static final byte INT32 = 4;
    private static final byte INT64 = 5;
    private static final byte DOUBLE = 6;
    private static final byte DECIMAL128 = 7;
    private static final byte STRING = 8;
    private static final byte DOCUMENT = 9;
    private static final byte ARRAY = 10;
    private static final byte OBJECT_ID = 11;
    private static final byte DATE = 12;
    private static final byte BINARY = 13;
    private static final byte UUID_TAG = 14;
    private static final byte LEGACY_UUID = 15;
    private static final byte TIMESTAMP = 16;
    private static final byte REGEX = 17;
    private static final byte JAVASCRIPT = 18;
    private static final byte MIN_KEY = 19;
    private static final byte MAX_KEY = 20;
    private static final byte SERIALIZED = 21;

    private static final int OBJECT_ID_LENGTH = 12;

    private ValueCodec() {}

    static void writeDocument(WriteBuffer buff, Map<String, ?> document) {
        buff.putVarInt(document.size());
        for (Map.Entry<String, ?> field : document.entrySet()) {
            writeString(buff, field.getKey());
            writeValue(buff, field.getValue());
        }
    }

    static Document readDocument(ByteBuffer buff) {
        int size = DataUtils.readVarInt(buff);
        Document document = new Document();
        for (int i = 0; i < size; i++) {
            String name = readString(buff);
            document.put(name, readValue(buff));
        }
        return document;
    }

    static void writeValue(WriteBuffer buff, Object value) {
        if (value instanceof String) {
            buff.put(STRING);
            writeString(buff, (String) value);
        } else if (value == null) {
            buff.put(NULL);
        } else if (value instanceof Integer) {
            buff.put(INT32).putVarInt(zigZag((Integer) value));
        } else if (value instanceof Long) {
            buff.put(INT64).putVarLong(zigZag((Long) value));
        } else if (value instanceof Double) {
            buff.put(DOUBLE).putDouble((Double) value);
        } else if (value instanceof Boolean) {
            buff.put((Boolean) value ? TRUE : FALSE);
        } else if (value instanceof Document) {
            buff.put(DOCUMENT);
            writeDocument(buff, (Document) value);
        } else if (value instanceof Collection) {
            // Sets (from $setUnion and the like) come back as lists, as they would through BSON.
            buff.put(ARRAY);
            writeArray(buff, (Collection<?>) value);
        } else if (value instanceof Instant) {
            Instant instant = (Instant) value;
            buff.put(DATE).putVarLong(zigZag(instant.getEpochSecond())).putVarInt(instant.getNano());
        } else if (value instanceof ObjectId) {
            buff.put(OBJECT_ID).put(((ObjectId) value).toByteArray());
        } else if (value instanceof Missing) {
            buff.put(MISSING);
        } else if (value instanceof UUID) {
            UUID uuid = (UUID) value;
            buff.put(UUID_TAG).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
        } else if (value instanceof LegacyUUID) {
            UUID uuid = ((LegacyUUID) value).getUuid();
            buff.put(LEGACY_UUID).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits());
        } else if (value instanceof BinData) {
            byte[] data = ((BinData) value).getData();
            buff.put(BINARY).putVarInt(data.length).put(data);
        } else if (value instanceof Decimal128) {
            Decimal128 decimal = (Decimal128) value;
            buff.put(DECIMAL128).putLong(decimal.getLow()).putLong(decimal.getHigh());
        } else if (value instanceof BsonTimestamp) {
            buff.put(TIMESTAMP).putLong(((BsonTimestamp) value).getValue());
        } else if (value instanceof BsonRegularExpression) {
            BsonRegularExpression regex = (BsonRegularExpression) value;
            buff.put(REGEX);
            writeString(buff, regex.getPattern());
            writeString(buff, regex.getOptions());
        } else if (value instanceof BsonJavaScript) {
            buff.put(JAVASCRIPT);
            writeString(buff, ((BsonJavaScript) value).getCode());
        } else if (value instanceof MinKey) {
            buff.put(MIN_KEY);
        } else if (value instanceof MaxKey) {
            buff.put(MAX_KEY);
        } else {
            byte[] data = serialize(value);
            buff.put(SERIALIZED).putVarInt(data.length).put(data);
        }
    }

    static Object readValue(ByteBuffer buff) {
        byte tag = buff.get();
        switch (tag) {
            case STRING:
                return readString(buff);
            case NULL:
                return null;
            case INT32:
                return unZigZag(DataUtils.readVarInt(buff));
            case INT64:
                return unZigZag(DataUtils.readVarLong(buff));
            case DOUBLE:
                return buff.getDouble();
            case TRUE:
                return Boolean.TRUE;
            case FALSE:
                return Boolean.FALSE;
            case DOCUMENT:
                return readDocument(buff);
            case ARRAY:
                return readArray(buff);
            case DATE:
                long seconds = unZigZag(DataUtils.readVarLong(buff));
                return Instant.ofEpochSecond(seconds, DataUtils.readVarInt(buff));
            case OBJECT_ID:
                byte[] id = new byte[OBJECT_ID_LENGTH];
                buff.get(id);
                return new ObjectId(id);
            case MISSING:
                return Missing.getInstance();
            case UUID_TAG:
                return new UUID(buff.getLong(), buff.getLong());
            case LEGACY_UUID:
                return new LegacyUUID(buff.getLong(), buff.getLong());
            case BINARY:
                return new BinData(readBytes(buff));
            case DECIMAL128:
                return new Decimal128(buff.getLong(), buff.getLong());
            case TIMESTAMP:
                return new BsonTimestamp(buff.getLong());
            case REGEX:
                String pattern = readString(buff);
                return new BsonRegularExpression(pattern, readString(buff));
            case JAVASCRIPT:
                return new BsonJavaScript(readString(buff));
            case MIN_KEY:
                return MinKey.getInstance();
            case MAX_KEY:
                return MaxKey.getInstance();
            case SERIALIZED:
                return deserialize(readBytes(buff));
            default:
                throw new IllegalStateException("unknown value tag " + tag + " at " + (buff.position() - 1));
        }
    }

    /** A rough size of the value on the heap, for MVStore's cache accounting (which samples, so cheap enough). */
    static int memory(Object value) {
        if (value instanceof String) {
            return 48 + ((String) value).length();
        } else if (value instanceof Map) {
            int memory = 64;
            for (Map.Entry<?, ?> field : ((Map<?, ?>) value).entrySet()) {
                memory += 40 + memory(field.getKey()) + memory(field.getValue());
            }
            return memory;
        } else if (value instanceof Collection) {
            int memory = 48;
            for (Object element : (Collection<?>) value) {
                memory += 8 + memory(element);
            }
            return memory;
        } else if (value instanceof BinData) {
            return 32 + ((BinData) value).getData().length;
        } else if (value == null || value instanceof Boolean || value instanceof Missing) {
            return 8;
        }
        return 32;
    }

    static byte[] serialize(Object value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot store a " + value.getClass().getName(), e);
        }
        return bytes.toByteArray();
    }

    private static Object deserialize(byte[] data) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(data))) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cannot read a stored Java object", e);
        }
    }

    private static void writeArray(WriteBuffer buff, Collection<?> elements) {
        buff.putVarInt(elements.size());
        for (Object element : elements) {
            writeValue(buff, element);
        }
    }

    private static List<Object> readArray(ByteBuffer buff) {
        int size = DataUtils.readVarInt(buff);
        List<Object> elements = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            elements.add(readValue(buff));
        }
        return elements;
    }

    private static void writeString(WriteBuffer buff, String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        buff.putVarInt(utf8.length).put(utf8);
    }

    private static String readString(ByteBuffer buff) {
        int length = DataUtils.readVarInt(buff);
        if (buff.hasArray()) {
            int start = buff.position();
            buff.position(start + length);
            return new String(buff.array(), buff.arrayOffset() + start, length, StandardCharsets.UTF_8);
        }
        byte[] utf8 = new byte[length];
        buff.get(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    private static byte[] readBytes(ByteBuffer buff) {
        byte[] data = new byte[DataUtils.readVarInt(buff)];
        buff.get(data);
        return data;
    }

    private static int zigZag(int value) {
        return (value << 1) ^ (value >> 31);
    }

    private static long zigZag(long value) {
        return (value << 1) ^ (value >> 63);
    }

    private static int unZigZag(int value) {
        return (value >>> 1) ^ -(value & 1);
    }

    private static long unZigZag(long value) {
        return (value >>> 1) ^ -(value & 1);
    }
}
