"""Key groups: the same key always lands in the same group, whatever the batch, slice or process."""
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from sqlstream.runtime.key_groups import group_range, hash_keys, key_groups, subtask_of_groups

COLUMNS = {
    "int": pa.array([1, 2, None, 2, -7, 1], pa.int32()),
    "bigint": pa.array([10**15, None, 3, 3, 10**15, -1], pa.int64()),
    "double": pa.array([0.0, -0.0, float("nan"), None, 1.5, 1.5]),
    "string": pa.array(["a", "", None, "ünï", "a", "longer value with spaces"]),
    "bool": pa.array([True, False, None, True, True, False]),
    "ts": pa.array([0, 1, None, 1, 5, 0], pa.timestamp("ms")),
    "decimal": pa.array([None, 1, 2, 3, 1, 2], pa.int32()).cast(pa.decimal128(12, 2)),
}


@pytest.mark.parametrize("name", sorted(COLUMNS))
def test_a_row_hashes_alike_in_any_batch_and_slice(name):
    col = COLUMNS[name]
    whole = hash_keys([col], len(col))
    for i in range(len(col)):
        assert hash_keys([col.slice(i, 1)], 1)[0] == whole[i]
    assert list(hash_keys([col.slice(2)], len(col) - 2)) == list(whole[2:])


def test_equal_keys_hash_equal_and_different_keys_differ():
    h = hash_keys([pa.array(["a", "a", "b", None, "a"]), pa.array([1, 2, 1, 1, 1])], 5)
    assert h[0] == h[4]  # ('a', 1) twice
    assert len({int(x) for x in h[:4]}) == 4
    d = hash_keys([COLUMNS["double"]], 6)
    assert d[0] == d[1]  # -0.0 is 0.0, as GROUP BY takes it
    assert d[4] == d[5]
    nan = pa.array([float("nan"), -float("nan")])
    assert hash_keys([nan], 2)[0] == hash_keys([nan], 2)[1]


def test_the_hash_is_fixed_across_processes():
    """Checkpointed key groups depend on it: the value never depends on the process's hash seed."""
    code = ("import pyarrow as pa; from sqlstream.runtime.key_groups import key_groups; "
            "print(list(key_groups([pa.array(['a', 'b', None]), pa.array([1, 2, 3])], 3)))")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin",
                                "PYTHONPATH": ":".join(sys.path)}).stdout for seed in ("1", "2")}
    assert len(outs) == 1
    assert outs.pop().strip() == str(list(key_groups([pa.array(["a", "b", None]), pa.array([1, 2, 3])], 3)))


def test_groups_spread_evenly():
    n = 100_000
    groups = key_groups([pa.array(np.arange(n))], n)
    counts = np.bincount(groups, minlength=128)
    assert counts.min() > 0.8 * n / 128 and counts.max() < 1.2 * n / 128
    strings = key_groups([pa.array([f"user-{i}" for i in range(n)])], n)
    counts = np.bincount(strings, minlength=128)
    assert counts.min() > 0.8 * n / 128 and counts.max() < 1.2 * n / 128


@pytest.mark.parametrize("parallelism", [1, 2, 3, 4, 7, 128])
def test_subtasks_own_contiguous_ranges_that_cover_all_groups(parallelism):
    owned = [group_range(i, parallelism) for i in range(parallelism)]
    assert [g for r in owned for g in r] == list(range(128))
    for i, r in enumerate(owned):
        assert set(subtask_of_groups(np.array(list(r)), parallelism)) == {i}


@pytest.mark.parametrize("max_parallelism", [128, 100, 1000])
def test_a_group_belongs_to_the_subtask_of_flinks_formula(max_parallelism):
    groups = np.arange(max_parallelism)
    for parallelism in (1, 2, 3, 7, max_parallelism):
        owners = subtask_of_groups(groups[::-1], parallelism, max_parallelism)
        assert owners.tolist() == (groups[::-1] * parallelism // max_parallelism).tolist()


def test_an_empty_key_sends_every_row_to_one_group():
    assert len(set(key_groups([], 5))) == 1


def test_text_keys_keep_their_hashes():
    """Checkpoints and savepoints hold key groups: a text key's hash is that of its bytes, whether a column holds
    it once or repeated (each distinct value is hashed once), with nulls, slices and only nulls."""
    col = pa.array(["2023-11-14", None, "Google", "", "2023-11-14", "ünï"])
    assert [int(x) for x in hash_keys([col], 6)] == [2291170749993099588, 1646759706397050001, 8115550332794838379,
                                                    0, 2291170749993099588, 685816012724865381]
    assert list(key_groups([col, pa.array([1, 2, 3, 4, 1, 6])], 6)) == [103, 59, 116, 52, 103, 4]
    repeated = pa.array([["a", "bb", None, "a"][i % 4] for i in range(1000)])
    alone = {v: int(hash_keys([pa.array([v], pa.string())], 1)[0]) for v in ("a", "bb", None)}
    assert [int(x) for x in hash_keys([repeated.slice(3, 500)], 500)] == \
        [alone[["a", "bb", None, "a"][(3 + i) % 4]] for i in range(500)]
    assert len({int(x) for x in hash_keys([pa.array([None] * 3, pa.string())], 3)}) == 1
    assert len(hash_keys([pa.array([], pa.string())], 0)) == 0
    binary = pa.array([b"\x00", b"", None, b"\x00"], pa.binary())
    assert list(hash_keys([binary], 4)) == [hash_keys([binary.slice(i, 1)], 1)[0] for i in range(4)]
