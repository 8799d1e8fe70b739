"""Random streams cut into batches as a source delivers them, each row carrying the watermark in force when it
arrives (per-row watermarks), for the differential tests of event-time operators."""
from __future__ import annotations

import random

from sqlstream.runtime.event_time import MIN_WM


def cut_with_watermarks(rows: list[tuple], sizes: list[int], rng: random.Random, delay: int,
                        ts: int) -> list[tuple[list[tuple], list[int], int]]:
    """(rows, each row's watermark, the watermark after the batch) per batch of a size drawn from `sizes`; the
    watermark is the largest timestamp (field `ts`) seen before, less `delay`."""
    out, top, i = [], MIN_WM, 0
    while i < len(rows):
        chunk = rows[i:i + rng.choice(sizes)]
        i += len(chunk)
        wms = []
        for r in chunk:
            wms.append(top)
            top = max(top, r[ts] - delay)
        out.append((chunk, wms, top))
    return out
