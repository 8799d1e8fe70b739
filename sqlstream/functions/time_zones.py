"""The session time zone ('table.local-time-zone') applied to TIMESTAMP_LTZ values: instants are stored in UTC,
and Flink turns them into wall-clock TIMESTAMPs, and back, in the session zone."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.core.errors import ExecutionError


def to_local(instants: pa.Array, zone: str) -> pa.Array:
    """TIMESTAMP_LTZ -> TIMESTAMP: the wall clock in `zone` at each instant."""
    unit = instants.type.unit
    try:
        zoned = pc.cast(instants, pa.timestamp(unit, tz=zone))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as ex:
        raise ExecutionError(f"Unknown time zone '{zone}': {ex}") from None
    return pc.local_timestamp(zoned)


def from_local(local: pa.Array, zone: str, repeated: str = "earliest") -> pa.Array:
    """TIMESTAMP -> TIMESTAMP_LTZ: the instant when the wall clock in `zone` shows each value. Like
    java.time, a time that repeats (clocks going back) takes the earlier instant (`repeated="latest"`: the later
    one, as java.util's calendars do), and a time that the clocks skip (going forward) is moved forward by the
    length of the gap."""
    unit = local.type.unit
    try:
        guess = pc.assume_timezone(local, timezone=zone, ambiguous=repeated, nonexistent="earliest")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as ex:
        raise ExecutionError(f"Unknown time zone '{zone}': {ex}") from None
    guess_utc = pc.cast(pc.cast(guess, pa.int64()), pa.int64())
    offset = pc.subtract(pc.cast(pc.local_timestamp(guess), pa.int64()), guess_utc)
    instant = pc.subtract(pc.cast(local, pa.int64()), offset)
    return pc.cast(instant, pa.timestamp(unit, tz="UTC"))
