"""Subtasks exchange a round's pieces between themselves with each piece's summary, so a subtask merges a round
from what its peers sent, in logical order, without the job's process telling it the summaries."""
import multiprocessing

import pyarrow as pa

from sqlstream.runtime.parallel.channel import PipeChannel
from sqlstream.runtime.parallel.peers import PeerExchange


def _pair() -> tuple[PeerExchange, PeerExchange]:
    a, b = multiprocessing.Pipe()
    return PeerExchange(0, 2, {1: PipeChannel(a)}), PeerExchange(1, 2, {0: PipeChannel(b)})


def test_a_round_is_taken_with_every_pieces_summary_in_logical_order():
    first, second = _pair()
    rows = pa.record_batch([pa.array([1, 2, 3])], names=["x"])
    # round 0: subtask 0 has rows for subtask 1, subtask 1 none for 0; round 1: the other way round
    first.send(0, [None, rows], (100, 65536))
    second.send(0, [rows.slice(0, 1), None], (90, 65536))
    first.send(1, [rows, None], (200, 65536))
    second.send(1, [None, rows.slice(1, 2)], (150, 1000))

    pieces = second.take(0)
    assert pieces[0].equals(rows) and pieces[1] is None
    assert second.summaries_of(0) == [(100, 65536), (90, 65536)]
    pieces = first.take(0)
    assert pieces[0] is None and pieces[1].equals(rows.slice(0, 1))
    assert first.summaries_of(0) == [(100, 65536), (90, 65536)]

    pieces = second.take(1)
    assert pieces[0] is None and pieces[1].equals(rows.slice(1, 2))
    assert second.summaries_of(1) == [(200, 65536), (150, 1000)]
    first.close()
    second.close()


def test_rounds_read_ahead_and_never_merged_are_dropped_with_their_summaries():
    first, second = _pair()
    rows = pa.record_batch([pa.array([7])], names=["x"])
    for number in range(3):
        first.send(number, [rows, rows], (number, 1))
        second.send(number, [None, None], (number, 0))
    # a restore merges from round 2 on: rounds 0 and 1 were read ahead and are not merged
    pieces = first.take(2)
    assert pieces[0].equals(rows) and pieces[1] is None
    assert first.summaries_of(2) == [(2, 1), (2, 0)]
    assert not first.own and not first.own_summary
    first.close()
    second.close()
