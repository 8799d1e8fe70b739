"""What the rank operators' tests share: a keyed operator fed batch by batch, its output per partition, and its
state split by key group and restored at another parallelism, checked against one uninterrupted operator."""
import numpy as np
import pyarrow as pa

from sqlstream.core.changelog import make_batch
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


def fed(op, rows: list, types: list, names: list, size: int, after_batch=None) -> dict:
    """Output lines per partition (the order within a partition is the changelog's) of `rows` (kind, values)
    fed to `op` in batches of `size`; `after_batch()` runs after each batch."""
    out: dict = {}
    for at in range(0, len(rows), size):
        chunk = rows[at:at + size]
        batch = make_batch(np.array([o for o, _ in chunk], np.int8),
                           [pa.array([r[j] for _, r in chunk], t) for j, t in enumerate(types)], names)
        for b in op.on_batch(batch):
            for line in zip(*[c.to_pylist() for c in b.columns]):
                out.setdefault(line[1], []).append(line)
        if after_batch is not None:
            after_batch()
    return out
