"""Flink 2.3's built-in functions: what its SHOW FUNCTIONS lists, and the names its SQL accepts in a call.

A call of one of Flink's functions that sqlstream lacks says so ("not supported yet"), rather than that no
such function exists.
"""
from __future__ import annotations

# Flink 2.3's `SHOW FUNCTIONS` with no user functions, verbatim (the core module's names: SQL names in upper
# case, Table API names in camel case)
SHOW_FUNCTIONS = (
    "AGG_DECIMAL_MINUS", "AGG_DECIMAL_PLUS", "ARRAY_AGG", "ARRAY_APPEND", "ARRAY_CONCAT", "ARRAY_CONTAINS",
    "ARRAY_DISTINCT", "ARRAY_EXCEPT", "ARRAY_INTERSECT", "ARRAY_JOIN", "ARRAY_MAX", "ARRAY_MIN", "ARRAY_POSITION",
    "ARRAY_PREPEND", "ARRAY_REMOVE", "ARRAY_REVERSE", "ARRAY_SLICE", "ARRAY_SORT", "ARRAY_UNION", "ASSIGNMENT",
    "BITMAP_AND", "BITMAP_ANDNOT", "BITMAP_AND_AGG", "BITMAP_AND_CARDINALITY_AGG", "BITMAP_BUILD",
    "BITMAP_BUILD_AGG", "BITMAP_BUILD_CARDINALITY_AGG", "BITMAP_CARDINALITY", "BITMAP_FROM_BYTES", "BITMAP_OR",
    "BITMAP_OR_AGG", "BITMAP_OR_CARDINALITY_AGG", "BITMAP_TO_ARRAY", "BITMAP_TO_BYTES", "BITMAP_TO_STRING",
    "BITMAP_XOR", "BITMAP_XOR_AGG", "BITMAP_XOR_CARDINALITY_AGG", "BTRIM", "COALESCE", "CURRENT_WATERMARK",
    "DEFAULT", "ELT", "ENDSWITH", "FROM_CHANGELOG", "GREATEST", "HIVE_AGG_DECIMAL_PLUS", "IFNULL", "INET_ATON",
    "INET_NTOA", "IS_JSON", "JSON", "JSON_ARRAY", "JSON_ARRAYAGG_ABSENT_ON_NULL", "JSON_ARRAYAGG_NULL_ON_NULL",
    "JSON_EXISTS", "JSON_OBJECT", "JSON_OBJECTAGG_ABSENT_ON_NULL", "JSON_OBJECTAGG_NULL_ON_NULL", "JSON_QUERY",
    "JSON_QUOTE", "JSON_STRING", "JSON_UNQUOTE", "JSON_VALUE", "LEAST", "LIKE", "MAP_ENTRIES", "MAP_FROM_ARRAYS",
    "MAP_KEYS", "MAP_UNION", "MAP_VALUES", "ML_PREDICT", "OBJECT_OF", "OBJECT_UPDATE", "PARSE_JSON", "PERCENTILE",
    "PRINTF", "REGEXP_COUNT", "REGEXP_EXTRACT_ALL", "REGEXP_INSTR", "REGEXP_SUBSTR", "SOURCE_WATERMARK", "SPLIT",
    "STARTSWITH", "TO_CHANGELOG", "TO_TIMESTAMP_LTZ", "TRANSLATE3", "TRY_CAST", "TRY_PARSE_JSON", "TYPEOF", "UNHEX",
    "URL_DECODE", "URL_ENCODE", "abs", "acos", "and", "array", "as", "asc", "ascii", "asin", "at", "atan", "atan2",
    "avg", "between", "bin", "cardinality", "cast", "ceil", "charLength", "chr", "collect", "concat", "concat_ws",
    "convertTz", "cos", "cosh", "cot", "count", "currentDatabase", "currentDate", "currentRowTimestamp",
    "currentTime", "currentTimestamp", "dateFormat", "decode", "degrees", "desc", "distinct", "divide", "e",
    "element", "encode", "end", "equals", "exp", "extract", "first_value", "flatten", "floor", "fromBase64",
    "fromUnixtime", "get", "greaterThan", "greaterThanOrEqual", "hex", "ifThenElse", "in", "initCap", "instr",
    "isFalse", "isNotFalse", "isNotNull", "isNotTrue", "isNull", "isTrue", "lag", "last_value", "lead", "left",
    "lessThan", "lessThanOrEqual", "listAgg", "ln", "localTime", "localTimestamp", "locate", "log", "log10", "log2",
    "lower", "lowerCase", "lpad", "ltrim", "map", "max", "md5", "min", "minus", "minusPrefix", "mod", "not",
    "notBetween", "notEquals", "now", "or", "over", "overlay", "parseUrl", "pi", "plus", "position", "power",
    "proctime", "radians", "rand", "randInteger", "rangeTo", "regexp", "regexpExtract", "regexpReplace",
    "reinterpretCast", "repeat", "replace", "reverse", "right", "round", "row", "rowtime", "rpad", "rtrim", "sha1",
    "sha2", "sha224", "sha256", "sha384", "sha512", "sign", "similar", "sin", "sinh", "splitIndex", "sqrt", "start",
    "stddevPop", "stddevSamp", "strToMap", "streamRecordTimestamp", "substr", "substring", "sum", "sum0", "tan",
    "tanh", "temporalOverlaps", "times", "timestampDiff", "toBase64", "toDate", "toTimestamp", "trim", "truncate",
    "unixTimestamp", "upper", "upperCase", "uuid", "varPop", "varSamp", "withColumns", "withoutColumns",
)

# The names Flink SQL calls its built-in functions by (the upper-case names above, less internal ones, and
# the documented system functions, which the planner defines under SQL names)
SQL_FUNCTIONS = frozenset((
    "ABS", "ACOS", "ARRAY_AGG", "ARRAY_APPEND", "ARRAY_CONCAT", "ARRAY_CONTAINS", "ARRAY_DISTINCT", "ARRAY_EXCEPT",
    "ARRAY_INTERSECT", "ARRAY_JOIN", "ARRAY_MAX", "ARRAY_MIN", "ARRAY_POSITION", "ARRAY_PREPEND", "ARRAY_REMOVE",
    "ARRAY_REVERSE", "ARRAY_SLICE", "ARRAY_SORT", "ARRAY_UNION", "ASCII", "ASIN", "ATAN", "ATAN2", "AVG", "BIN",
    "BITMAP_AND", "BITMAP_ANDNOT", "BITMAP_AND_AGG", "BITMAP_AND_CARDINALITY_AGG", "BITMAP_BUILD",
    "BITMAP_BUILD_AGG", "BITMAP_BUILD_CARDINALITY_AGG", "BITMAP_CARDINALITY", "BITMAP_FROM_BYTES", "BITMAP_OR",
    "BITMAP_OR_AGG", "BITMAP_OR_CARDINALITY_AGG", "BITMAP_TO_ARRAY", "BITMAP_TO_BYTES", "BITMAP_TO_STRING",
    "BITMAP_XOR", "BITMAP_XOR_AGG", "BITMAP_XOR_CARDINALITY_AGG", "BTRIM", "CARDINALITY", "CAST", "CEIL", "CEILING",
    "CHARACTER_LENGTH", "CHAR_LENGTH", "CHR", "COALESCE", "COLLECT", "CONCAT", "CONCAT_WS", "CONVERT_TZ", "COS",
    "COSH", "COT", "COUNT", "CUME_DIST", "CUMULATE", "CURRENT_DATABASE", "CURRENT_DATE", "CURRENT_ROW_TIMESTAMP",
    "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_WATERMARK", "DATE_FORMAT", "DAYOFMONTH", "DAYOFWEEK", "DAYOFYEAR",
    "DECODE", "DEGREES", "DENSE_RANK", "E", "ELEMENT", "ELT", "ENCODE", "ENDSWITH", "EXP", "EXTRACT", "FIRST_VALUE",
    "FLOOR", "FROM_BASE64", "FROM_CHANGELOG", "FROM_UNIXTIME", "GREATEST", "GROUPING", "GROUPING_ID", "GROUP_ID",
    "HEX", "HOP", "HOP_END", "HOP_PROCTIME", "HOP_ROWTIME", "HOP_START", "HOUR", "IF", "IFNULL", "INET_ATON",
    "INET_NTOA", "INITCAP", "INSTR", "IS_ALPHA", "IS_DECIMAL", "IS_DIGIT", "JSON_ARRAY", "JSON_ARRAYAGG",
    "JSON_EXISTS", "JSON_OBJECT", "JSON_OBJECTAGG", "JSON_QUERY", "JSON_QUOTE", "JSON_STRING", "JSON_UNQUOTE",
    "JSON_VALUE", "LAG", "LAST_VALUE", "LEAD", "LEAST", "LEFT", "LISTAGG", "LN", "LOCALTIME", "LOCALTIMESTAMP",
    "LOCATE", "LOG", "LOG10", "LOG2", "LOWER", "LPAD", "LTRIM", "MAP_ENTRIES", "MAP_FROM_ARRAYS", "MAP_KEYS",
    "MAP_UNION", "MAP_VALUES", "MAX", "MD5", "MIN", "MINUTE", "ML_PREDICT", "MONTH", "NOW", "NTILE", "NULLIF",
    "OBJECT_OF", "OBJECT_UPDATE", "OVERLAY", "PARSE_JSON", "PARSE_URL", "PERCENTILE", "PERCENT_RANK", "PI",
    "POSITION", "POWER", "PRINTF", "PROCTIME", "QUARTER", "RADIANS", "RAND", "RAND_INTEGER", "RANK", "REGEXP",
    "REGEXP_COUNT", "REGEXP_EXTRACT", "REGEXP_EXTRACT_ALL", "REGEXP_INSTR", "REGEXP_REPLACE", "REGEXP_SUBSTR",
    "REPEAT", "REPLACE", "REVERSE", "RIGHT", "ROUND", "ROW_NUMBER", "RPAD", "RTRIM", "SECOND", "SESSION",
    "SESSION_END", "SESSION_PROCTIME", "SESSION_ROWTIME", "SESSION_START", "SHA1", "SHA2", "SHA224", "SHA256",
    "SHA384", "SHA512", "SIGN", "SIN", "SINH", "SOURCE_WATERMARK", "SPLIT", "SPLIT_INDEX", "SQRT", "STARTSWITH",
    "STDDEV", "STDDEV_POP", "STDDEV_SAMP", "STR_TO_MAP", "SUBSTR", "SUBSTRING", "SUM", "TAN", "TANH", "TIMESTAMPADD",
    "TIMESTAMPDIFF", "TO_BASE64", "TO_CHANGELOG", "TO_DATE", "TO_TIMESTAMP", "TO_TIMESTAMP_LTZ", "TRANSLATE3",
    "TRIM", "TRUNCATE", "TRY_CAST", "TRY_PARSE_JSON", "TUMBLE", "TUMBLE_END", "TUMBLE_PROCTIME", "TUMBLE_ROWTIME",
    "TUMBLE_START", "TYPEOF", "UNHEX", "UNIX_TIMESTAMP", "UPPER", "URL_DECODE", "URL_ENCODE", "UUID", "VARIANCE",
    "VAR_POP", "VAR_SAMP", "WEEK", "YEAR",
))


def not_supported(name: str) -> str | None:
    """The error for a call of a Flink built-in function sqlstream does not have; None for other names."""
    if name.upper() in SQL_FUNCTIONS:
        return f"Built-in function {name.upper()} is not supported yet"
    return None
