"""The filesystem sink's part files: Flink's rolling policy for row formats, in-progress files kept across
checkpoints and cut back to their checkpointed length on restore, and auto-compaction of a checkpoint's files.
(Kill-and-restart runs of whole jobs under each policy are in test_checkpoints.py.)"""
import os

import pyarrow as pa
import pytest

from sqlstream.connectors import registry
from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.filesystem import FileSystemSink
from sqlstream.connectors.part_files import RollingPolicy, compaction_bins
from sqlstream.core.errors import OptionError
from sqlstream.core.types import from_arrow

JOB = "job0123456789ab"
SCHEMA = TableSchema(["a"], [from_arrow(pa.int64())])


def rows(*values: int) -> pa.RecordBatch:
    return pa.record_batch([pa.array([0] * len(values), pa.int8()), pa.array(values, pa.int64())],
                           names=["_op", "a"])


def visible(folder) -> dict[str, list[str]]:
    return {f: open(os.path.join(folder, f)).read().splitlines()
            for f in sorted(os.listdir(folder)) if not f.startswith(".")}


def hidden(folder) -> list[str]:
    return [f for f in os.listdir(folder) if f.startswith(".")]


def test_a_file_stays_in_progress_across_checkpoints_and_a_restore_commits_what_they_recorded(tmp_path):
    sink = FileSystemSink(str(tmp_path), "json", SCHEMA, table="t")
    w = sink.writer(JOB)
    w.write(rows(1, 2))
    first = w.prepare_commit(1)
    w.commit(first)
    w.write(rows(3))
    second = w.prepare_commit(2)
    w.commit(second)
    assert visible(tmp_path) == {}, "under Flink's defaults (128MB, 30 min) nothing rolls yet"
    w.write(rows(4, 5))  # after checkpoint 2: the process dies here
    w.current[""].handle.close()
    sink.recover(JOB, second)
    [(name, lines)] = visible(tmp_path).items()
    assert lines == ['{"a": 1}', '{"a": 2}', '{"a": 3}'] and name.endswith("-chk2")
    assert hidden(tmp_path) == []


def test_rolling_on_size_cuts_files_after_the_record_that_passes_the_size(tmp_path):
    sink = FileSystemSink(str(tmp_path), "json", SCHEMA, table="t", policy=RollingPolicy(file_size=20))
    w = sink.writer(JOB)
    w.write(rows(*range(10)))  # 9 bytes a line: a file rolls at its third line (27 > 20)
    w.commit(w.prepare_commit(1))
    assert [len(lines) for lines in visible(tmp_path).values()] == [3, 3, 3], "the 4th file is in progress"
    w.close()
    files = visible(tmp_path)
    assert [len(lines) for lines in files.values()] == [3, 3, 3, 1]
    assert sorted(int(line[6:-1]) for lines in files.values() for line in lines) == list(range(10))


def test_rolled_files_wait_for_the_next_checkpoint_and_a_kill_drops_them(tmp_path):
    sink = FileSystemSink(str(tmp_path), "json", SCHEMA, table="t", policy=RollingPolicy(file_size=20))
    w = sink.writer(JOB)
    w.write(rows(1))
    chk = w.prepare_commit(1)
    w.commit(chk)
    w.write(rows(2, 3, 4, 5))  # rolls the recorded file, then more: none of it is checkpointed
    assert visible(tmp_path) == {}
    for handle in list(w.held.values()) + [p.handle for p in w.current.values()]:
        handle.close()
    sink.recover(JOB, chk)
    assert list(visible(tmp_path).values()) == [['{"a": 1}']]
    assert hidden(tmp_path) == []


def test_a_restore_falling_back_past_the_commit_of_a_grown_file_cuts_it_back(tmp_path):
    sink = FileSystemSink(str(tmp_path), "json", SCHEMA, table="t", policy=RollingPolicy(file_size=20))
    w = sink.writer(JOB)
    w.write(rows(1))
    chk1 = w.prepare_commit(1)
    w.commit(chk1)
    w.write(rows(2, 3))
    w.commit(w.prepare_commit(2))  # the file rolled and checkpoint 2 committed it with rows 1..3
    assert list(visible(tmp_path).values()) == [['{"a": 1}', '{"a": 2}', '{"a": 3}']]
    # checkpoint 2 turns out damaged: the restore falls back to checkpoint 1
    assert sink.rollback(JOB, 1) == "removed 1 part file(s) committed after checkpoint 1"
    sink.recover(JOB, chk1)
    [(name, lines)] = visible(tmp_path).items()
    assert lines == ['{"a": 1}'] and name.endswith("-chk1")
    assert hidden(tmp_path) == []


def test_cancel_keeps_a_recorded_in_progress_file_for_the_restore(tmp_path):
    sink = FileSystemSink(str(tmp_path), "json", SCHEMA, table="t")
    w = sink.writer(JOB)
    w.write(rows(1))
    chk = w.prepare_commit(1)
    w.commit(chk)
    w.write(rows(2))
    w.cancel()
    sink.recover(JOB, chk)
    assert list(visible(tmp_path).values()) == [['{"a": 1}']]


def test_end_of_input_rolls_everything_into_the_final_checkpoint(tmp_path):
    sink = FileSystemSink(str(tmp_path), "json", SCHEMA, table="t")
    w = sink.writer(JOB)
    w.write(rows(1))
    w.end_input()
    w.commit(w.prepare_commit(7))
    [(name, lines)] = visible(tmp_path).items()
    assert lines == ['{"a": 1}'] and name.endswith("-chk7")


def test_auto_compaction_merges_the_files_of_one_checkpoint(tmp_path):
    policy = RollingPolicy(file_size=20, roll_on_checkpoint=True, compaction_size=50)
    sink = FileSystemSink(str(tmp_path), "json", SCHEMA, table="t", policy=policy)
    w = sink.writer(JOB)
    w.write(rows(*range(10)))  # files of 3, 3, 3 and 1 lines (27, 27, 27, 9 bytes)
    chk = w.prepare_commit(1)
    assert [len(sources) for sources, _ in chk["files"]] == [2, 2]
    w.commit(chk)
    files = visible(tmp_path)
    assert [len(lines) for lines in files.values()] == [6, 4]
    assert all(name.startswith("compacted-part-") and name.endswith("-chk1") for name in files)
    w.write(rows(10))
    w.commit(w.prepare_commit(2))  # every checkpoint rolls: row 10 is visible after checkpoint 2
    assert len(visible(tmp_path)) == 3 and hidden(tmp_path) == []


def test_a_merge_interrupted_by_a_kill_is_redone_on_restore(tmp_path):
    policy = RollingPolicy(file_size=20, roll_on_checkpoint=True, compaction_size=1000)
    sink = FileSystemSink(str(tmp_path), "json", SCHEMA, table="t", policy=policy)
    w = sink.writer(JOB)
    w.write(rows(*range(10)))
    chk = w.prepare_commit(1)  # the checkpoint is durable; the process dies before its commit
    for handle in w.held.values():
        handle.close()
    (tmp_path / f".{os.path.basename(chk['files'][0][1])}.compacting").write_text("torn")
    sink.recover(JOB, chk)
    [lines] = visible(tmp_path).values()
    assert lines == [f'{{"a": {i}}}' for i in range(10)] and hidden(tmp_path) == []


def test_compaction_bins_fill_up_to_the_target_size():
    assert compaction_bins([10, 10, 10, 50, 5], 20) == [[0, 1], [2, 3], [4]]
    assert compaction_bins([], 20) == []


def test_raw_format_writes_one_string_per_line(tmp_path):
    sink = registry.create_sink("filesystem", "r", {"connector": "filesystem", "path": str(tmp_path),
                                                    "format": "raw"}, TableSchema(["s"], [from_arrow(pa.string())]))
    w = sink.writer(JOB)
    w.write(pa.record_batch([pa.array([0, 0], pa.int8()), pa.array(["a,b", '{"x": 1}'])], names=["_op", "s"]))
    w.close()
    assert list(visible(tmp_path).values()) == [["a,b", '{"x": 1}']]


@pytest.mark.parametrize("option, value, message", [
    ("sink.rolling-policy.file-size", "12 parsecs", "must be a positive memory size"),
    ("sink.rolling-policy.file-size", "0", "must be a positive memory size"),
    ("sink.rolling-policy.rollover-interval", "soon", "must be a positive duration"),
    ("sink.rolling-policy.inactivity-interval", "0 s", "must be a positive duration"),
    ("auto-compaction", "yes", "must be 'true' or 'false'"),
])
def test_bad_rolling_options_are_rejected(tmp_path, option, value, message):
    options = {"connector": "filesystem", "path": str(tmp_path), "format": "json", "auto-compaction": "true",
               option: value}
    with pytest.raises(OptionError, match=message):
        registry.create_sink("filesystem", "t", options, SCHEMA)


def test_rolling_options_in_flink_units():
    from sqlstream.connectors.options import Options
    opts = Options("t", "filesystem", {"sink.rolling-policy.file-size": "1 kb",
                                       "sink.rolling-policy.rollover-interval": "2 min",
                                       "sink.rolling-policy.check-interval": "10 s"}, [])
    policy = RollingPolicy.from_options(opts)
    assert (policy.file_size, policy.rollover_ms, policy.check_ms, policy.inactivity_ms) == (1024, 120_000,
                                                                                             10_000, 1_800_000)
    assert policy.compaction_size is None and not policy.roll_on_checkpoint
