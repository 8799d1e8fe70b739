"""A checkpoint or sink folder that cannot be written is an error naming the folder, what was being written
and why, and saying how the job continues; never an internal OSError."""
import errno
import subprocess
from pathlib import Path

import pytest

from sqlstream.runtime.checkpoint import CheckpointStorage
from sqlstream.core.errors import StorageError
from tests.test_checkpoints import committed, start, write_job


def test_full_disk_while_writing_a_checkpoint_names_the_folder_and_file(tmp_path, monkeypatch):
    storage = CheckpointStorage(str(tmp_path / "ck"))

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr("sqlstream.runtime.checkpoint_fs._write_synced", full)
    with pytest.raises(StorageError) as e:
        storage.write("chk-7", {"001-Op.t.arrow": b"x"}, {"checkpoint_id": 7, "state_files": ["001-Op.t.arrow"]})
    msg = str(e.value)
    assert "chk-7 (001-Op.t.arrow)" in msg and str(tmp_path / "ck") in msg and "no space left" in msg, msg


def _run(job: Path, *extra):
    rc, _, err = start(job, *extra).finish()
    return rc, err


def test_a_file_in_the_way_of_the_checkpoint_or_sink_folder(tmp_path, data):
    folder = tmp_path / "inway"
    job = write_job(folder, data)
    (folder / "checkpoints").write_text("not a folder")
    rc, err = _run(job)
    assert rc == 1 and "internal error" not in err, err
    assert f"Cannot write checkpoints in '{folder / 'checkpoints'}" in err and "a file is in the way" in err, err

    (folder / "checkpoints").unlink()
    (folder / "out").mkdir()
    (folder / "out" / "windowed").write_text("not a folder")
    rc, err = _run(job)
    assert rc == 1 and "internal error" not in err, err
    assert "sink table 'windowed'" in err and str(folder / "out" / "windowed") in err, err
    assert "a file is in the way" in err and "run the job again" in err, err


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 2 MB tmpfs (a real full disk, about half of the job's output); skipped where this process may not mount."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)])


def test_full_disk_under_a_sink_then_restart_from_the_last_checkpoint(tmp_path, data, expected, small_tmpfs):
    folder = tmp_path / "full"
    job = write_job(folder, data)
    (folder / "out").symlink_to(small_tmpfs)
    rc, err = _run(job)
    assert rc == 1 and "internal error" not in err, err
    assert "Cannot write a part file of sink table" in err and str(folder / "out") in err, err
    assert "no space left on the device" in err and "run the job again" in err, err
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_tmpfs)], check=True)
    rc, err = _run(job)
    assert rc == 0, err
    assert committed(folder) == expected


def test_read_only_checkpoint_folder(tmp_path, data, small_tmpfs):
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    folder = tmp_path / "ro"
    job = write_job(folder, data)
    job.write_text(job.read_text().replace(f"{folder}/checkpoints", f"{small_tmpfs}/checkpoints"))
    rc, err = _run(job)
    assert rc == 1 and "internal error" not in err, err
    assert f"Cannot write checkpoints in '{small_tmpfs}/checkpoints" in err and "read-only" in err, err
