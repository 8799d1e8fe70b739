"""A folder's files divided among N subtasks: each round is N consecutive blocks, one read whole by each subtask.
Restored at any position parallelism 1's reader gives (rows served of a block too), the blocks deliver exactly
the rows after it, in order, and the position after each round restores parallelism 1's reader there."""
import json

import pytest

from sqlstream.core.errors import FormatError
from sqlstream.runtime.parallel import rounds
from tests.test_file_read_ahead import drain, source


def read_rounds(src, position, pieces: int, batch_rows: int, ahead: bool = False) -> tuple[list, list]:
    """The keys the rounds deliver from `position`, and the position after each round. ahead: every block of a
    round starts decoding before the first is read (as a source subtask starts its next block early)."""
    cursor = rounds.FileRounds(src.files(), batch_rows, pieces)
    cursor.restore(position)
    keys, positions = [], []
    while (request := cursor.next_round()) is not None:
        replies = []
        readers = [src.piece(path, start, end, line, served) for path, _, start, end, line, served in request[1]]
        for reader in readers if ahead else ():
            reader.start()
        for reader in readers:
            got = [k for _, batch in drain(reader, 1000) for k in batch]
            keys += got
            replies.append({"rows": len(got), "lines": reader.lines_read})
        replies += [{"rows": 0, "lines": 0}] * (pieces - len(replies))
        cursor.merged_round(request, replies)
        positions.append((len(keys), cursor.position()))
    return keys, positions


@pytest.mark.parametrize("pieces,ahead", [(2, False), (3, False), (2, True), (3, True)])
def test_rounds_restored_at_every_position_deliver_the_rest(tmp_path, monkeypatch, pieces, ahead):
    monkeypatch.setattr(rounds, "CHUNK", 64)
    rows = [json.dumps({"k": i, "v": "x" * (i % 7)}) for i in range(20)] + ["", "\r"]
    src = source(tmp_path, rows, monkeypatch, files=3)
    polls = drain(src.reader("0"), 2)
    keys = [k for _, batch in polls for k in batch]
    for n, (position, _) in enumerate(polls):  # parallelism 1's positions, rows served of a block among them
        rest = keys[sum(len(b) for _, b in polls[:n]):]
        got, after = read_rounds(src, list(position), pieces, batch_rows=2, ahead=ahead)
        assert got == rest, f"from {position}"
        for taken, at in after if n == 0 else ():  # a checkpoint after a round restores parallelism 1's reader
            assert [k for _, b in drain(src.reader("0", at), 2) for k in b] == rest[taken:], f"at {at}"


@pytest.mark.parametrize("ahead", [False, True])
def test_a_bad_line_in_a_later_block_names_its_file_and_line(tmp_path, monkeypatch, ahead):
    monkeypatch.setattr(rounds, "CHUNK", 64)
    rows = [json.dumps({"k": i, "v": "v"}) for i in range(20)]
    rows[13] = '{"k": 13, "v": oops}'
    src = source(tmp_path, rows, monkeypatch, files=1)
    with pytest.raises(FormatError, match=r"part-0:14\)"):
        read_rounds(src, None, 2, batch_rows=2, ahead=ahead)
