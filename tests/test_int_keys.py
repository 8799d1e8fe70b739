"""The integer key index gives every distinct key (NULLs included) one id for good, across batches, table growth
and hash collisions, as the tuple-keyed KeyIndex does."""
import numpy as np
import pyarrow as pa
import pytest

from sqlstream.runtime.int_keys import IntKeyIndex, takes

TYPES = [pa.int64(), pa.int32(), pa.timestamp("ms"), pa.date32()]


class OneHash(IntKeyIndex):
    """Every key hashes alike: probing and the distinct keys of a batch go through their slow paths."""

    def _hash(self, key):
        return np.zeros(key.shape[1], np.uint64)


class LastSlot(IntKeyIndex):
    """Every key hashes to the last slot: a rebuilt table wraps its keys around to the first slots."""

    def _hash(self, key):
        return np.full(key.shape[1], np.iinfo(np.uint64).max, np.uint64)


def batch(rng, n: int) -> list[pa.Array]:
    return [pa.array(rng.integers(-3, 30, n), pa.int64(), mask=rng.random(n) < 0.05),
            pa.array(rng.integers(0, 4, n).astype(np.int32), pa.int32()),
            pa.array(rng.integers(0, 3, n) * 1000, pa.timestamp("ms"), mask=rng.random(n) < 0.05),
            pa.array(rng.integers(0, 2, n).astype(np.int32), pa.int32()).view(pa.date32())]


@pytest.mark.parametrize("index", [IntKeyIndex, OneHash, LastSlot])
def test_ids_are_those_of_a_dictionary(index):
    rng = np.random.default_rng(7)
    keys = index(TYPES)
    seen: dict[tuple, int] = {}
    for size in [0, 1, 5, 300, 2000, 17, 2500, 3000]:
        cols = batch(rng, size)
        ids, new = keys.lookup(cols, size)
        before = set(seen)
        for i, k in enumerate(zip(*[c.to_pylist() for c in cols])):
            assert new[i] == (k not in before)
            assert seen.setdefault(k, int(ids[i])) == ids[i]
        assert sorted(seen.values()) == list(range(len(keys)))


def test_no_columns_is_one_key():
    keys = IntKeyIndex([])
    assert keys.lookup([], 3)[0].tolist() == [0, 0, 0]
    assert keys.lookup([], 2)[1].tolist() == [False, False]


def test_takes_integer_stored_types_only():
    assert takes(TYPES) and takes([])
    assert not takes([pa.string()]) and not takes([pa.uint64()]) and not takes([pa.float64()])


@pytest.mark.parametrize("index", [IntKeyIndex, OneHash, LastSlot])
def test_released_keys_free_their_ids_and_keys_read_back(index):
    """A released key is looked up as new and takes a free id; the ids of live keys stay theirs, and the key
    columns of an id are its key, NULLs included, in the declared types."""
    rng = np.random.default_rng(11)
    keys = index(TYPES)
    live: dict[tuple, int] = {}
    peak = 0
    for size in [5, 300, 2000, 17, 2500, 3000, 40, 1500]:
        cols = batch(rng, size)
        ids, new = keys.lookup(cols, size)
        before = set(live)
        for i, k in enumerate(zip(*[c.to_pylist() for c in cols])):
            assert new[i] == (k not in before)
            assert live.setdefault(k, int(ids[i])) == ids[i]
        assert len(set(live.values())) == len(live)
        peak = max(peak, len(live))
        assert len(keys) <= peak
        held = np.array(list(live.values()), np.int64)
        back = keys.key_columns(held, TYPES)
        assert [c.type for c in back] == TYPES
        assert list(zip(*[c.to_pylist() for c in back])) == list(live)
        gone = [k for k in list(live) if rng.random() < 0.5]
        freed = np.array([live.pop(k) for k in gone], np.int64)
        keys.release(np.r_[freed, freed[:3]])  # an id released twice is released once
