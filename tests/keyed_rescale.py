"""A keyed operator's state split by key group and restored at another parallelism, checked against one
uninterrupted operator: the check the rank operators' state tests share."""
import pyarrow as pa

from sqlstream.runtime.key_groups import group_range, key_groups, subtask_of_groups


def rescaled_run(rows: list, opened, feed, old: int, new: int, head_rows: int = 300) -> tuple[dict, dict]:
    """(uninterrupted, rescaled): the outputs per partition of the rows after the first `head_rows`, from one
    operator that saw them all, and from `new` subtasks restored from the snapshots of `old` subtasks that
    shared the first rows by key group. `opened()` gives (operator, state backend); `feed(op, rows)` gives the
    output per partition; a row is (kind, values) with the partition key first."""
    head, tail = rows[:head_rows], rows[head_rows:]

    def owners(part: list, n: int):
        return subtask_of_groups(key_groups([pa.array([r[0] for _, r in part], pa.string())], len(part)), n)
    owner_old, snapshots = owners(head, old), []
    whole, _ = opened()
    feed(whole, head)
    for s in range(old):
        op, backend = opened()
        feed(op, [r for r, o in zip(head, owner_old) if o == s])
        snapshots.append(backend.snapshot(group_range(s, old)))
    expected = feed(whole, tail)
    owner_new, got = owners(tail, new), {}
    for s in range(new):
        op, backend = opened()
        backend.restore(snapshots, group_range(s, new))
        got.update(feed(op, [r for r, o in zip(tail, owner_new) if o == s]))
    return expected, got
