"""Checkpoints that cannot be trusted are found, skipped for an older intact one, or refused clearly:
every file is checksummed in the manifest and the manifest checksums itself; a job that committed output
never starts over silently when nothing can be restored."""
import json
import signal
from pathlib import Path

import pytest

from sqlstream.runtime.checkpoint import CheckpointStorage, read_checkpoint
from sqlstream.core.errors import CheckpointError
from tests.test_checkpoints import committed, start, write_job


def _storage_with_two(tmp_path) -> CheckpointStorage:
    storage = CheckpointStorage(str(tmp_path / "ck"))
    for cid in (1, 2):
        storage.write(f"chk-{cid}", {"op.t.arrow": bytes(range(200)) * cid},
                      {"checkpoint_id": cid, "state_files": ["op.t.arrow"], "operators": {"op": {"t": "op.t.arrow"}},
                       "positions": {"src": [[0, 0, 0, 100 * cid]]}})
    return storage


def test_checkpoints_behind_a_uri_of_a_filesystem_without_rename(tmp_path):
    """An object store cannot rename: the manifest, written last as one object, is the commit. A folder a
    subtask wrote its part into but no manifest followed (torn) is not a checkpoint; the part is left unread
    (a PartRef the restoring subtask reads and checks itself); retention keeps the newest."""
    pytest.importorskip("fsspec")
    from sqlstream.runtime.checkpoint import PartRef
    from sqlstream.runtime.checkpoint_fs import Files
    from sqlstream.runtime.subtask_state import load, write_part
    root = f"memory://{tmp_path.name}/ck"
    storage = CheckpointStorage(root)
    assert not storage.files.renames and Files(f"file://{tmp_path}").renames and Files(str(tmp_path)).renames
    part = {"op": {"t": b"state"}}
    for cid in (1, 2, 3):
        folder = storage.prepare(f"chk-{cid}")
        name, size, crc = write_part(folder, "op.subtask-0.arrow", part)
        if cid < 3:
            storage.write(f"chk-{cid}", {"op.t.arrow": b"x" * cid},
                          {"checkpoint_id": cid, "state_files": ["op.t.arrow", name]}, {name: [size, crc]})
    assert storage.completed() == [f"{root}/chk-1", f"{root}/chk-2"] and storage.numbers() == {1: 1, 2: 1, 3: 0}
    manifest, files = read_checkpoint(storage.latest())
    assert manifest["checkpoint_id"] == 2 and files["op.t.arrow"] == b"xx"
    assert isinstance(files[name], PartRef) and load(files[name]) == part
    storage.retain(1)
    assert storage.numbers() == {2: True, 3: False}
    Files(f"{root}/chk-2").write(name, b"damaged")
    with pytest.raises(CheckpointError, match="op.subtask-0.arrow has 7 bytes"):
        read_checkpoint(storage.latest())
    with pytest.raises(CheckpointError, match=r"s3://KEY:\*\*\*@bucket/ck.*Unexpected query parameter in S3 URI: 'bogus'"):
        CheckpointStorage("s3://KEY:SECRET@bucket/ck?bogus=1")


def _edit_manifest(folder: Path, edit) -> None:
    path = folder / "_manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("damage", ["flip", "truncate_file", "truncate_manifest", "garbage_manifest",
                                    "edit_position", "missing_file"])
def test_damaged_newest_checkpoint_is_found_and_the_previous_one_used(tmp_path, damage):
    storage = _storage_with_two(tmp_path)
    newest = tmp_path / "ck" / "chk-2"
    state = newest / "op.t.arrow"
    if damage == "flip":
        raw = bytearray(state.read_bytes())
        raw[123] ^= 0x01
        state.write_bytes(bytes(raw))
    elif damage == "truncate_file":
        state.write_bytes(state.read_bytes()[:-7])
    elif damage == "truncate_manifest":
        raw = (newest / "_manifest.json").read_bytes()
        (newest / "_manifest.json").write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage_manifest":
        (newest / "_manifest.json").write_bytes(b"\x00\xff" * 40)
    elif damage == "edit_position":
        _edit_manifest(newest, lambda m: m["positions"]["src"][0].__setitem__(3, 1200))
    elif damage == "missing_file":
        state.unlink()
    with pytest.raises(CheckpointError) as e:
        read_checkpoint(str(newest))
    assert str(newest) in str(e.value)
    location, manifest, files, skipped = storage.newest_valid()
    assert manifest["checkpoint_id"] == 1 and location == str(tmp_path / "ck" / "chk-1")
    assert [loc for loc, _ in skipped] == [str(newest)]
    assert files == {"op.t.arrow": bytes(range(200))}


def test_no_intact_checkpoint_left(tmp_path):
    storage = _storage_with_two(tmp_path)
    for cid in (1, 2):
        (tmp_path / "ck" / f"chk-{cid}" / "_manifest.json").write_text("{")
    location, _, _, skipped = storage.newest_valid()
    assert location is None and len(skipped) == 2
    assert all("truncated or not JSON" in why for _, why in skipped)


def run_until_checkpoints(job: Path, folder: Path, n: int, committed_output: bool = False) -> None:
    """Run the job and SIGKILL it once it has completed n checkpoints (and, if asked, committed the output of
    one to its sinks), or let it finish first."""
    p = start(job)

    def reached() -> bool:
        roots = list((folder / "checkpoints").glob("*")) if (folder / "checkpoints").exists() else []
        return any(len(CheckpointStorage(str(r)).completed()) >= n for r in roots) and \
            (not committed_output or any(committed(folder).values()))
    p.wait_for(lambda: reached() or p.exited(), f"{n} checkpoint(s)")
    p.kill()
    p.finish()


def _job_root(folder: Path) -> Path:
    return next((folder / "checkpoints").iterdir())


def _retained_job(folder: Path, data: str, retained: int) -> Path:
    job = write_job(folder, data)
    job.write_text(f"SET 'execution.checkpointing.num-retained' = '{retained}';\n" + job.read_text())
    return job


@pytest.mark.parametrize("damage", ["flip_state", "edit_position", "truncate_manifest"])
def test_damaged_newest_checkpoint_of_a_killed_job_restores_the_previous_exactly_once(tmp_path, data, expected,
                                                                                       damage):
    folder = tmp_path / "damaged"
    job = _retained_job(folder, data, 3)
    run_until_checkpoints(job, folder, 3)
    storage = CheckpointStorage(str(_job_root(folder)))
    newest = Path(storage.completed()[-1])
    if damage == "flip_state":
        state = max((f for f in newest.glob("*.arrow")), key=lambda f: f.stat().st_size)
        raw = bytearray(state.read_bytes())
        raw[len(raw) // 2] ^= 0x40
        state.write_bytes(bytes(raw))
    elif damage == "edit_position":
        def edit(m):
            for positions in m["positions"].values():
                positions[0][3] += 1000
        _edit_manifest(newest, edit)
    else:
        raw = (newest / "_manifest.json").read_bytes()
        (newest / "_manifest.json").write_bytes(raw[:100])
    rc, _, err = start(job).finish()
    assert rc == 0, err
    assert f"checkpoint '{newest}' cannot be restored" in err and "skipped it" in err, err
    assert "restored from checkpoint" in err and "Traceback" not in err
    assert committed(folder) == expected, "0 wrong, 0 missing, 0 duplicated rows after the fallback"


def test_job_with_no_restorable_checkpoint_refuses_to_start_over(tmp_path, data):
    """The only checkpoint's manifest is gone: the rerun stops instead of writing everything again; --fresh
    starts over on purpose."""
    folder = tmp_path / "gone"
    job = write_job(folder, data)
    run_until_checkpoints(job, folder, 1, committed_output=True)
    before = committed(folder)
    assert any(before.values())
    storage = CheckpointStorage(str(_job_root(folder)))
    for location in storage.completed():
        (Path(location) / "_manifest.json").unlink()
    rc, _, err = start(job).finish()
    assert rc == 1, err
    assert "ran before and committed output" in err and "--fresh" in err and "Traceback" not in err, err
    assert committed(folder) == before, "nothing written"
    rc, _, err = start(job, "--fresh").finish()
    assert rc == 0, err


def test_an_edited_job_says_it_starts_over_beside_the_earlier_jobs_output(tmp_path, data):
    """An edited statement is another job (another fingerprint): in the checkpoint directory where the earlier
    job committed output it starts from its sources' beginning, as a new Flink job does, and says so."""
    folder = tmp_path / "edited"
    job = write_job(folder, data)
    run_until_checkpoints(job, folder, 1, committed_output=True)
    earlier = _job_root(folder).name
    job.write_text(job.read_text().replace("WHERE val > 900", "WHERE val > 901"))
    rc, _, err = start(job).finish()
    assert rc == 0, err
    assert f"other jobs committed output ({earlier})" in err and "--from-savepoint" in err, err


def test_every_checkpoint_damaged_is_a_clear_error(tmp_path, data):
    folder = tmp_path / "alldamaged"
    job = _retained_job(folder, data, 2)
    run_until_checkpoints(job, folder, 2)
    before = committed(folder)
    storage = CheckpointStorage(str(_job_root(folder)))
    for location in storage.completed():
        (Path(location) / "_manifest.json").write_text("{}")
    rc, _, err = start(job).finish()
    assert rc == 1, err
    assert err.count("has no checksum") >= 2 and "nothing there can be restored" in err, err
    assert committed(folder) == before


UNBOUNDED_JOB = """
SET 'execution.checkpointing.interval' = '10 min';
SET 'execution.checkpointing.dir' = '{dir}/checkpoints';
CREATE TABLE events (key INT, val BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '1000',
  'fields.key.min' = '1', 'fields.key.max' = '5');
CREATE TABLE totals (key INT, total BIGINT) WITH ('connector' = 'filesystem', 'path' = '{dir}/out',
  'format' = 'debezium-json');
INSERT INTO totals SELECT key, SUM(val) FROM events GROUP BY key;
"""


def test_stopped_with_a_savepoint_then_rerun_without_it_is_refused(tmp_path):
    """The job never ends by itself, so the SIGTERM always finds it running, however slow the machine."""
    folder = tmp_path / "savepointed"
    folder.mkdir()
    job = folder / "job.sql"
    job.write_text(UNBOUNDED_JOB.format(dir=folder))
    p = start(job)
    p.wait_for_stderr("Job running: checkpoints every 10 min")
    p.signal(signal.SIGTERM)
    _, _, err = p.finish()
    savepoint = err.split("savepoint written to ")[1].split()[0]
    rc, _, err = start(job).finish()
    assert rc == 1 and f"--from-savepoint {savepoint}" in err, err


def test_a_completed_checkpoint_or_savepoint_is_never_overwritten(tmp_path):
    storage = _storage_with_two(tmp_path)
    with pytest.raises(CheckpointError, match="already holds a completed checkpoint"):
        storage.write("chk-2", {}, {"checkpoint_id": 2, "state_files": []})
    assert read_checkpoint(str(tmp_path / "ck" / "chk-2"))[0]["checkpoint_id"] == 2


def test_savepoints_of_two_jobs_under_one_dir_keep_apart(tmp_path):
    from sqlstream.script import ScriptRunner
    locations = []
    for n in (1, 2):
        sql = (f"SET 'execution.checkpointing.dir' = '{tmp_path}/ck';\n"
               f"CREATE TABLE t (a INT) WITH ('connector' = 'datagen', 'number-of-rows' = '{n}');\n"
               f"CREATE TABLE o (a INT) WITH ('connector' = 'blackhole');\nINSERT INTO o SELECT a FROM t;\n")
        runner = ScriptRunner(summary=False)
        runner.request_savepoint()  # taken at the job's first step, as SIGUSR1 would
        runner.run(sql)
        saved = [p for p in (tmp_path / "ck" / "savepoints").iterdir()]
        locations.append(saved)
    assert len(locations[1]) == 2, "the second job's first savepoint did not replace the first job's"


def test_a_run_starting_beside_a_live_writer_of_the_same_job_leaves_its_part_files(tmp_path):
    """Without a checkpoint folder nothing locks the job: a second run's cleanup of in-progress part files
    must not take the rows of a writer that is still running."""
    import pyarrow as pa

    from sqlstream.connectors.base import TableSchema
    from sqlstream.connectors.filesystem import FileSystemSink
    from sqlstream.core.types import from_arrow
    sink = FileSystemSink(str(tmp_path / "out"), "json", TableSchema(["a"], [from_arrow(pa.int32())]), table="o")
    live = sink.writer("job0123456789ab")
    live.write(pa.record_batch([pa.array([0], pa.int8()), pa.array([1], pa.int32())], names=["_op", "a"]))
    dead = sink.writer("job0123456789ab")
    dead.write(pa.record_batch([pa.array([0], pa.int8()), pa.array([9], pa.int32())], names=["_op", "a"]))
    dead.current[""].handle.close()  # its process died: the file is no longer held
    sink.recover("job0123456789ab", [])
    live.close()
    lines = [ln for f in (tmp_path / "out").glob("part-*") for ln in f.read_text().splitlines()]
    assert lines == ['{"a": 1}']
    assert not list((tmp_path / "out").glob(".*inprogress"))
