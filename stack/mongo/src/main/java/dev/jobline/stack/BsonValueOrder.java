package dev.jobline.stack;

import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.bson.BinData;
import de.bwaldvogel.mongo.bson.BsonJavaScript;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.BsonTimestamp;
import de.bwaldvogel.mongo.bson.Decimal128;
import de.bwaldvogel.mongo.bson.LegacyUUID;
import de.bwaldvogel.mongo.bson.MaxKey;
import de.bwaldvogel.mongo.bson.MinKey;
import de.bwaldvogel.mongo.bson.ObjectId;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;

/**
 * The order of the B-trees that hold documents by _id and unique-index keys: MongoDB's comparison order of BSON values
 * (types ranked as mongo-java-server's ValueComparator ranks them), made a total order whose "equal" is MongoDB's
 * equality. A unique index is only as correct as this: two keys that compare equal are one key.
 *
 * <p>Not ValueComparator itself, which a B-tree cannot use: it compares an array inside a document by its smallest
 * element (so {a: [1, 5]} and {a: [1, 3]} would be one key), cannot compare regular expressions or JavaScript, and
 * compares a large long with a double by truncating the double, which with NaN makes it intransitive.
 *
 * <p>Numbers compare by value whatever their Java type (1, 1L and 1.0 are equal; -0.0 equals 0.0; NaN equals NaN and
 * sorts before every other number). Documents compare field by field (type of the value, name, value), so field
 * order matters, as in MongoDB; arrays compare element by element. null and missing are equal.
 */
final class BsonValueOrder implements Comparator<Object> {
    static final BsonValueOrder INSTANCE = new BsonValueOrder();

    private static final int MIN_KEY = 0;
    private static final int NULL = 1;
    private static final int NUMBER = 2;
    private static final int STRING = 3;
    private static final int DOCUMENT = 4;
    private static final int ARRAY = 5;
    private static final int BINARY = 6;
    private static final int LEGACY_UUID = 7;
    private static final int UUID_RANK = 8;
    private static final int OBJECT_ID = 9;
    private static final int BOOLEAN = 10;
    private static final int DATE = 11;
    private static final int TIMESTAMP = 12;
    private static final int REGEX = 13;
    private static final int JAVASCRIPT = 14;
    /** A value of a type BSON does not have; stored with Java serialization (see ValueCodec). */
    private static final int OTHER = 15;
    private static final int MAX_KEY = 16;

    private BsonValueOrder() {}

    @Override
    public int compare(Object a, Object b) {
        if (a == b) {
            return 0;
        }
        int rank = rank(a);
        int byRank = Integer.compare(rank, rank(b));
        if (byRank != 0) {
            return byRank;
        }
        switch (rank) {
            case STRING:
                return ((String) a).compareTo((String) b);
            case NUMBER:
                return compareNumbers((Number) a, (Number) b);
            case DOCUMENT:
                return compareDocuments((Map<?, ?>) a, (Map<?, ?>) b);
            case ARRAY:
                return compareArrays((Collection<?>) a, (Collection<?>) b);
            case OBJECT_ID:
                return ((ObjectId) a).compareTo((ObjectId) b);
            case DATE:
                return ((Instant) a).compareTo((Instant) b);
            case BOOLEAN:
                return Boolean.compare((Boolean) a, (Boolean) b);
            case BINARY:
                return ((BinData) a).compareTo((BinData) b);
            case UUID_RANK:
                return ((UUID) a).compareTo((UUID) b);
            case LEGACY_UUID:
                return ((LegacyUUID) a).compareTo((LegacyUUID) b);
            case TIMESTAMP:
                return ((BsonTimestamp) a).compareTo((BsonTimestamp) b);
            case REGEX:
                return compareRegularExpressions((BsonRegularExpression) a, (BsonRegularExpression) b);
            case JAVASCRIPT:
                return ((BsonJavaScript) a).getCode().compareTo(((BsonJavaScript) b).getCode());
            case OTHER:
                return compareOthers(a, b);
            default: // MIN_KEY, NULL, MAX_KEY: one value each
                return 0;
        }
    }

    private static int rank(Object value) {
        if (value instanceof String) {
            return STRING;
        } else if (value == null || value instanceof Missing) {
            return NULL;
        } else if (value instanceof Number) {
            return NUMBER;
        } else if (value instanceof Map) {
            return DOCUMENT;
        } else if (value instanceof Collection) {
            return ARRAY;
        } else if (value instanceof ObjectId) {
            return OBJECT_ID;
        } else if (value instanceof Instant) {
            return DATE;
        } else if (value instanceof Boolean) {
            return BOOLEAN;
        } else if (value instanceof BinData) {
            return BINARY;
        } else if (value instanceof UUID) {
            return UUID_RANK;
        } else if (value instanceof LegacyUUID) {
            return LEGACY_UUID;
        } else if (value instanceof BsonTimestamp) {
            return TIMESTAMP;
        } else if (value instanceof BsonRegularExpression) {
            return REGEX;
        } else if (value instanceof BsonJavaScript) {
            return JAVASCRIPT;
        } else if (value instanceof MinKey) {
            return MIN_KEY;
        } else if (value instanceof MaxKey) {
            return MAX_KEY;
        }
        return OTHER;
    }

    private static int compareNumbers(Number a, Number b) {
        if (isDecimal(a) || isDecimal(b)) {
            return compareDecimals(a, b);
        }
        boolean integralA = isIntegral(a);
        boolean integralB = isIntegral(b);
        if (integralA && integralB) {
            return Long.compare(a.longValue(), b.longValue());
        } else if (integralA) {
            return compareLongWithDouble(a.longValue(), b.doubleValue());
        } else if (integralB) {
            return -compareLongWithDouble(b.longValue(), a.doubleValue());
        }
        return compareDoubles(a.doubleValue(), b.doubleValue());
    }

    private static boolean isIntegral(Number n) {
        return n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte;
    }

    private static boolean isDecimal(Number n) {
        return n instanceof Decimal128 || n instanceof BigDecimal || n instanceof BigInteger;
    }

    /** Exact, where a cast would round: a long above 2^53 and the nearest double are not equal. */
    private static int compareLongWithDouble(long a, double b) {
        if (Double.isNaN(b)) {
            return 1;
        }
        if (b >= 0x1p63) {
            return -1;
        }
        if (b < -0x1p63) {
            return 1;
        }
        long truncated = (long) b;
        if (a != truncated) {
            return Long.compare(a, truncated);
        }
        // b lies within one of a; when b has a fraction, |b| < 2^52 and the long converts to double exactly.
        return b > truncated ? -1 : b < truncated ? 1 : 0;
    }

    private static int compareDoubles(double a, double b) {
        if (a < b) {
            return -1;
        } else if (a > b) {
            return 1;
        } else if (a == b) {
            return 0;
        }
        return Boolean.compare(!Double.isNaN(a), !Double.isNaN(b));
    }

    /** Decimal128's NaN and infinities have no BigDecimal; they compare as the doubles they convert to. */
    private static int compareDecimals(Number a, Number b) {
        double doubleA = a.doubleValue();
        double doubleB = b.doubleValue();
        if (!Double.isFinite(doubleA) || !Double.isFinite(doubleB)) {
            return compareDoubles(doubleA, doubleB);
        }
        return toBigDecimal(a).compareTo(toBigDecimal(b));
    }

    private static BigDecimal toBigDecimal(Number n) {
        if (n instanceof Decimal128) {
            return ((Decimal128) n).toBigDecimal();
        } else if (n instanceof BigDecimal) {
            return (BigDecimal) n;
        } else if (n instanceof BigInteger) {
            return new BigDecimal((BigInteger) n);
        } else if (isIntegral(n)) {
            return BigDecimal.valueOf(n.longValue());
        }
        return new BigDecimal(n.doubleValue());
    }

    private int compareDocuments(Map<?, ?> a, Map<?, ?> b) {
        Iterator<? extends Map.Entry<?, ?>> fieldsA = a.entrySet().iterator();
        Iterator<? extends Map.Entry<?, ?>> fieldsB = b.entrySet().iterator();
        while (fieldsA.hasNext() && fieldsB.hasNext()) {
            Map.Entry<?, ?> fieldA = fieldsA.next();
            Map.Entry<?, ?> fieldB = fieldsB.next();
            int byType = Integer.compare(rank(fieldA.getValue()), rank(fieldB.getValue()));
            if (byType != 0) {
                return byType;
            }
            int byName = ((String) fieldA.getKey()).compareTo((String) fieldB.getKey());
            if (byName != 0) {
                return byName;
            }
            int byValue = compare(fieldA.getValue(), fieldB.getValue());
            if (byValue != 0) {
                return byValue;
            }
        }
        return Boolean.compare(fieldsA.hasNext(), fieldsB.hasNext());
    }

    private int compareArrays(Collection<?> a, Collection<?> b) {
        Iterator<?> elementsA = a.iterator();
        Iterator<?> elementsB = b.iterator();
        while (elementsA.hasNext() && elementsB.hasNext()) {
            int byElement = compare(elementsA.next(), elementsB.next());
            if (byElement != 0) {
                return byElement;
            }
        }
        return Boolean.compare(elementsA.hasNext(), elementsB.hasNext());
    }

    private static int compareRegularExpressions(BsonRegularExpression a, BsonRegularExpression b) {
        int byPattern = a.getPattern().compareTo(b.getPattern());
        return byPattern != 0 ? byPattern : a.getOptions().compareTo(b.getOptions());
    }

    @SuppressWarnings("unchecked")
    private static int compareOthers(Object a, Object b) {
        int byClass = a.getClass().getName().compareTo(b.getClass().getName());
        if (byClass != 0) {
            return byClass;
        }
        if (a instanceof Comparable) {
            return ((Comparable<Object>) a).compareTo(b);
        }
        return Arrays.compare(ValueCodec.serialize(a), ValueCodec.serialize(b));
    }
}
