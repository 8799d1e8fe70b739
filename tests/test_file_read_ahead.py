"""The filesystem source reads the next blocks ahead and decodes them on its decoding threads while the job
processes the current one, two blocks at once: what the job sees does not change. Rows, positions and errors are
those of the blocks handed out, and a reader restored at any position delivers exactly the rows after it."""
import json

import pytest

from sqlstream.connectors import filesystem, lines, registry
from sqlstream.connectors.base import TableSchema
from sqlstream.core.errors import FormatError
from sqlstream.core.types import FlinkType

SCHEMA = TableSchema(["k", "v"], [FlinkType.of("BIGINT"), FlinkType.of("VARCHAR")])


def source(tmp_path, rows: list[str], monkeypatch, files: int = 2, two_at_once: bool = False):
    monkeypatch.setattr(lines, "CHUNK", 160 if two_at_once else 64)  # blocks of a few lines
    monkeypatch.setattr(filesystem, "IN_FLIGHT", 3 if two_at_once else 1)
    per = -(-len(rows) // files)
    for f in range(files):
        (tmp_path / f"part-{f}").write_text("".join(r + "\n" for r in rows[f * per:(f + 1) * per]))
    return registry.create_source("filesystem", "t", {"connector": "filesystem", "path": str(tmp_path),
                                                      "format": "json"}, SCHEMA)


def drain(reader, max_rows: int) -> list[tuple[list, list]]:
    """(position before the poll, rows of the poll) for each poll until the end."""
    out = []
    while True:
        before = reader.position()
        batch = reader.poll(max_rows)
        if batch is None:
            break
        out.append((before, batch.column(0).to_pylist()))
    reader.close()
    return out


@pytest.mark.parametrize("two_at_once", [False, True])
def test_restored_at_every_position_a_reader_delivers_the_rest(tmp_path, monkeypatch, two_at_once):
    max_rows = 2
    rows = [json.dumps({"k": i, "v": "x" * (i % 7)}) for i in range(16)] + ["", "\r"]
    src = source(tmp_path, rows, monkeypatch, two_at_once=two_at_once)
    polls = drain(src.reader("0"), max_rows)
    keys = [k for _, batch in polls for k in batch]
    assert keys == list(range(16))
    for n, (position, _) in enumerate(polls):
        rest = drain(src.reader("0", list(position)), max_rows)
        assert [k for _, batch in rest for k in batch] == keys[sum(len(b) for _, b in polls[:n]):]
    end = src.reader("0")
    drain(end, 100)
    assert drain(src.reader("0", end.position()), 100) == []


@pytest.mark.parametrize("bad", [[9], [7, 9], [6, 9]])
def test_a_malformed_line_fails_when_its_block_is_reached(tmp_path, monkeypatch, bad):
    """Read ahead of time, the first bad line still fails the job only when its block is reached, after every
    row of the blocks before, naming its file and line; decoded two blocks at once (bad lines in both, or in the
    second only) the job sees the same."""
    rows = [json.dumps({"k": i, "v": "v"}) for i in range(12)]
    for i in bad:
        rows[i] = '{"k": %d, "v": ' % i

    def run(two_at_once: bool):
        reader = source(tmp_path, rows, monkeypatch, files=1, two_at_once=two_at_once).reader("0")
        monkeypatch.setattr(lines, "CHUNK", 160)
        seen = []
        with pytest.raises(FormatError) as e:
            while (batch := reader.poll(1)) is not None:
                seen += batch.column(0).to_pylist()
        reader.close()
        return seen, str(e.value)
    seen, error = run(False)
    assert run(True) == (seen, error)
    assert seen == list(range(len(seen))) and len(seen) <= bad[0] and f"part-0:{bad[0] + 1}" in error


def test_blocks_cut_on_the_job_thread_hold_every_line_once(tmp_path, monkeypatch):
    """Blocks are cut after a newline (a line longer than a block makes its block longer) and split into lines
    where they are decoded: every line once, in order, the last one without its newline too."""
    monkeypatch.setattr(lines, "CHUNK", 16)
    text = b"a\n\nbb\n" + b"x" * 40 + b"\ncc\n" + b"y" * 20
    (tmp_path / "f").write_bytes(text)
    got, first_lines = [], []
    reader = lines.LineFile(str(tmp_path / "f"))
    while (block := reader.next_block()) is not None:
        first_lines.append(block[1])
        got += block[0].to_pylist()
    reader.close()
    assert got == [line + "\n" for line in text.decode().split("\n")]
    assert first_lines == sorted(first_lines) and first_lines[0] == 0


def test_an_error_names_its_line_after_blank_lines_and_long_lines(tmp_path, monkeypatch):
    """A block's first line number comes from the blocks split before it, blank lines counted."""
    rows = [json.dumps({"k": i, "v": "x" * (200 if i == 3 else 1)}) for i in range(10)]
    rows[4:4] = ["", "\r"]
    rows[9] = '{"k": 7, "v": '
    reader = source(tmp_path, rows, monkeypatch, files=1, two_at_once=True).reader("0")
    seen = []
    with pytest.raises(FormatError) as e:
        while (batch := reader.poll(1)) is not None:
            seen += batch.column(0).to_pylist()
    reader.close()
    assert seen == list(range(len(seen))) and len(seen) <= 7 and "part-0:10" in str(e.value)
