"""Key groups, as Flink partitions keyed state: a key hashes to one of `max_parallelism` groups, and each of
`parallelism` subtasks owns a contiguous range of groups, so state can be redistributed when the parallelism
changes (a restore at another parallelism moves whole groups).

The hash is ours, not Java's `hashCode`: it is computed over whole Arrow columns with numpy, depends only on the
key's values (never on Python's per-process hash seed, batch boundaries or the process), and equal keys in the
sense of GROUP BY get equal hashes (-0.0 and 0.0, every NaN)."""
from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

DEFAULT_MAX_PARALLELISM = 128  # Flink's 'pipeline.max-parallelism' default for small parallelisms
_NULL = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(0x100000001B3)
_MULTIPLIER = np.uint64(31)
_SHIFT, _MIX1, _MIX2 = np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB93FE53A9BE2)
FEW = 8  # a small batch: up to this many keys or values are hashed, probed and placed in Python, where the fixed
# cost of array operations is more (text hashing here, IntKeyIndex and HeldRows lookups)


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: every input bit reaches every output bit. In place (`h` is the caller's
    own array, which it returns): a batch's hash is the router's largest cost per row, and temporaries doubled it."""
    shifted = np.empty_like(h)
    with np.errstate(over="ignore"):
        np.right_shift(h, _SHIFT, out=shifted)
        h ^= shifted
        h *= _MIX1
        np.right_shift(h, _SHIFT, out=shifted)
        h ^= shifted
        h *= _MIX2
        np.right_shift(h, _SHIFT, out=shifted)
        h ^= shifted
    return h


def _distinct_bytes_hash(col: pa.Array) -> np.ndarray:
    """`_bytes_hash` of each value, computed once per distinct value: a text key column usually holds few (a day,
    a channel), and Arrow's dictionary encoding costs about a twentieth of hashing every value's bytes (30k rows
    of a DATE_FORMAT day: 0.33 against 7 ms); the hashes are the same. Nulls are the caller's to replace."""
    if len(col) <= FEW:
        return _bytes_hash(col)
    encoded = pc.dictionary_encode(col)
    if not len(encoded.dictionary):  # no value, or only nulls
        return np.zeros(len(col), dtype=np.uint64)
    indices = encoded.indices
    if indices.null_count:
        indices = pc.fill_null(indices, 0)
    return _bytes_hash(encoded.dictionary)[indices.to_numpy(zero_copy_only=False)]


def _bytes_hash(col: pa.Array) -> np.ndarray:
    """A polynomial hash of each value's bytes, over the whole column at once (no per-row Python)."""
    col = col.cast(pa.large_binary()) if not pa.types.is_large_binary(col.type) else col
    col = pc.fill_null(col, b"")  # nulls are replaced by the caller's null hash
    n = len(col)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    if n <= FEW and col.nbytes <= 64 * FEW:
        return _few_bytes_hash(col.to_pylist())
    offsets = np.frombuffer(col.buffers()[1], dtype=np.int64)[col.offset:col.offset + n + 1]
    data = np.frombuffer(col.buffers()[2], dtype=np.uint8) if col.buffers()[2] is not None \
        else np.zeros(0, dtype=np.uint8)
    start, end = offsets[:-1], offsets[1:]
    lengths = end - start
    values = data[offsets[0]:offsets[-1]].astype(np.uint64)
    position = np.arange(len(values), dtype=np.int64) - np.repeat(start - offsets[0], lengths)
    longest = int(lengths.max(initial=0))
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(max(longest, 1), _PRIME, dtype=np.uint64), dtype=np.uint64)
        terms = (values + np.uint64(1)) * powers[position] if len(values) else values
        sums = np.zeros(n, dtype=np.uint64)
        nonempty = lengths > 0
        if nonempty.any():
            sums[nonempty] = np.add.reduceat(terms, (start - offsets[0])[nonempty])
        return sums + lengths.astype(np.uint64)


def _few_bytes_hash(values: list[bytes]) -> np.ndarray:
    """`_bytes_hash` of a few short values (a small batch) in Python: the same sums, without the twenty array
    operations that cost more than the bytes themselves."""
    mask, prime, out = (1 << 64) - 1, int(_PRIME), []
    for v in values:
        total, power = 0, 1
        for b in v:
            power = power * prime & mask
            total = (total + (b + 1) * power) & mask
        out.append((total + len(v)) & mask)
    return np.array(out, np.uint64)


def _column_hash(col: pa.Array) -> np.ndarray:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.dictionary_decode()
        t = col.type
    if pa.types.is_boolean(t):
        raw = pc.fill_null(col, False).cast(pa.uint8()).to_numpy(zero_copy_only=False).astype(np.uint64)
    elif pa.types.is_floating(t):
        values = pc.fill_null(col, 0.0).cast(pa.float64()).to_numpy(zero_copy_only=False)
        values = np.where(values == 0.0, 0.0, values)  # -0.0 is 0.0
        raw = np.where(np.isnan(values), np.nan, values).view(np.uint64)
    elif (pa.types.is_integer(t) or pa.types.is_temporal(t)) and not pa.types.is_interval(t):
        width = t.bit_width
        as_int = col.view(pa.int64() if width == 64 else pa.int32() if width == 32
                          else pa.int16() if width == 16 else pa.int8())
        if as_int.null_count:
            as_int = pc.fill_null(as_int, 0)
        raw = as_int.to_numpy(zero_copy_only=False).astype(np.int64).view(np.uint64)  # a copy: hashed in place
    elif pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) \
            or pa.types.is_large_binary(t):
        raw = _distinct_bytes_hash(col)
    else:  # DECIMAL, nested and other types: hashed through their text form
        raw = _bytes_hash(pc.cast(col, pa.string()) if pa.types.is_decimal(t)
                          else pa.array([None if v is None else repr(v) for v in col.to_pylist()], pa.string()))
    hashed = _fmix64(raw)
    if col.null_count:
        hashed[np.asarray(col.is_null())] = _NULL
    return hashed


def hash_keys(cols: list[pa.Array], n: int) -> np.ndarray:
    """A 64-bit hash per row of the key formed by `cols` (an empty key hashes every row alike)."""
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i, col in enumerate(cols):
            if i == 0:
                h = _column_hash(col)  # 0 * 31 + the first column's hash
            else:
                h *= _MULTIPLIER
                h += _column_hash(col)
    return _fmix64(h)


def max_parallelism_of(config: dict) -> int:
    """The job's number of key groups ('pipeline.max-parallelism'): what state and routing both hash keys into."""
    return int(config.get("pipeline.max-parallelism") or DEFAULT_MAX_PARALLELISM)


def key_groups(cols: list[pa.Array], n: int, max_parallelism: int = DEFAULT_MAX_PARALLELISM) -> np.ndarray:
    """The key group of each row, in [0, max_parallelism)."""
    h = hash_keys(cols, n)
    if max_parallelism & (max_parallelism - 1) == 0:  # a power of two (the default): a mask, not a division
        h &= np.uint64(max_parallelism - 1)
    else:
        h %= np.uint64(max_parallelism)
    return h.view(np.int64)


def subtask_of_groups(groups: np.ndarray, parallelism: int,
                      max_parallelism: int = DEFAULT_MAX_PARALLELISM) -> np.ndarray:
    """The subtask owning each key group (Flink's computeOperatorIndexForKeyGroup), looked up in the owners of
    the `max_parallelism` groups (a multiplication and an integer division per row cost twice the lookup)."""
    return _owners(parallelism, max_parallelism)[groups]


@functools.lru_cache(maxsize=16)
def _owners(parallelism: int, max_parallelism: int) -> np.ndarray:
    return np.arange(max_parallelism, dtype=np.int64) * parallelism // max_parallelism


def subtask_of_keys(cols: list[pa.Array], n: int, parallelism: int,
                    max_parallelism: int = DEFAULT_MAX_PARALLELISM) -> np.ndarray:
    """The subtask owning each row's key (`cols`: the key columns of `n` rows)."""
    return subtask_of_groups(key_groups(cols, n, max_parallelism), parallelism, max_parallelism)


def group_range(subtask: int, parallelism: int, max_parallelism: int = DEFAULT_MAX_PARALLELISM) -> range:
    """The contiguous key groups a subtask owns (Flink's computeKeyGroupRangeForOperatorIndex)."""
    start = (subtask * max_parallelism + parallelism - 1) // parallelism
    end = ((subtask + 1) * max_parallelism - 1) // parallelism
    return range(start, end + 1)
