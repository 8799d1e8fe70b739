"""The nexmark source: deterministic, independent of batch size, with the standard event mix."""
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.connectors.nexmark import NexmarkConfig, generate
from sqlstream.connectors.options import Options, OptionError
import pytest

NAMES = ["event_type", "person", "auction", "bid"]


def config(**extra) -> NexmarkConfig:
    raw = {"connector": "nexmark", "events.num": "100000", **extra}
    return NexmarkConfig(Options("t", "nexmark", raw, list(raw)))


def stream(cfg: NexmarkConfig, total: int, batch: int) -> pa.Table:
    return pa.Table.from_batches([generate(cfg, s, min(batch, total - s), NAMES) for s in range(0, total, batch)])


def test_same_events_whatever_the_batch_size():
    cfg = config()
    whole = stream(cfg, 5000, 5000)
    whole.validate(full=True)
    assert stream(cfg, 5000, 7).to_pylist() == whole.to_pylist()
    assert stream(cfg, 5000, 1024).to_pylist() == whole.to_pylist()


def test_seed_changes_the_stream_and_only_the_seed():
    a, b, c = stream(config(), 2000, 500), stream(config(), 2000, 500), stream(config(seed="7"), 2000, 500)
    assert a.equals(b)
    assert not a.equals(c)


def test_event_mix_ids_and_time():
    cfg = config()
    t = stream(cfg, 50_000, 8192)
    types = t.column("event_type").to_pylist()
    assert [types.count(i) for i in range(3)] == [1000, 3000, 46000]
    # exactly one of the three rows is set, the one the type names
    for i, col in enumerate(("person", "auction", "bid")):
        assert pc.sum(pc.is_valid(t.column(col))).as_py() == types.count(i)
        assert pc.all(pc.equal(pc.is_valid(t.column(col)), pc.equal(t.column("event_type"), i))).as_py()
    persons = pc.drop_null(pc.struct_field(t.column("person"), "id")).to_pylist()
    auctions = pc.drop_null(pc.struct_field(t.column("auction"), "id")).to_pylist()
    assert persons == list(range(1000, 2000)) and auctions == list(range(1000, 4000))
    bids = pc.drop_null(t.column("bid")).to_pylist()
    # a bid names an auction and a bidder that already exist
    assert all(1000 <= b["auction"] < 4000 and 1000 <= b["bidder"] < 2000 for b in bids)
    assert all(100 <= b["price"] <= 10_000_000 for b in bids)
    assert all(b["url"].startswith("https://www.nexmark.com/") for b in bids)
    named = sum(b["channel"] in ("Google", "Facebook", "Baidu", "Apple") for b in bids)
    assert 0.75 < named / len(bids) < 0.85
    # 10M events per second of event time by default: event i is i / 10 000 ms after the first
    first = t.column("person")[0]["dateTime"].as_py()
    assert [(b["dateTime"] - first).total_seconds() * 1000 for b in bids[-2:]] == [4, 4]
    assert (t.column("bid")[19_999]["dateTime"].as_py() - first).total_seconds() * 1000 == 1


def test_out_of_order_delay_stays_within_bound():
    t = stream(config(**{"max-out-of-order": "500", "first-event.rate": "1000"}), 3000, 1000)
    ts = [r["dateTime"] for r in pc.drop_null(t.column("bid")).to_pylist()]
    late = [later for later, earlier in zip(ts[1:], ts[:-1]) if later < earlier]
    assert late, "some events arrive out of order"
    running = ts[0]
    for x in ts:
        running = max(running, x)
        assert (running - x).total_seconds() <= 0.5 + 1e-9


def test_bad_options_are_named():
    with pytest.raises(OptionError, match="proportions"):
        config(**{"bid.proportion": "0"})


def test_stream_written_as_json_reads_back_identically(tmp_path):
    """The JSON files other engines are fed hold the generated events exactly; ROW values are objects, as
    Flink's json format writes them."""
    import io
    import json
    from benchmarks.nexmark.__main__ import write_json
    from benchmarks.nexmark.queries import COLUMNS
    from sqlstream.connectors.base import SinkWriter
    from sqlstream.plan import logical as L
    from sqlstream.script import ScriptRunner
    from sqlstream.session import parse_script
    write_json(3000, 10_000_000, str(tmp_path / "json"))
    part = next(p for p in (tmp_path / "json").iterdir() if p.name.startswith("part"))
    first = json.loads(part.open().readline())
    assert first["person"]["id"] == 1000 and first["person"]["dateTime"] == "2023-11-14 22:13:20.000"
    assert first["event_type"] == 0 and first["bid"] is None

    class Collect(SinkWriter):
        batches = []

        def write(self, batch):
            self.batches.append(batch)
    runner = ScriptRunner(out=io.StringIO(), err=io.StringIO(), summary=False)
    sql = (f"CREATE TABLE files ({COLUMNS}) WITH ('connector' = 'filesystem', 'path' = '{tmp_path / 'json'}', "
           f"'format' = 'json'); SELECT * FROM files;")
    create, select = parse_script(sql)
    runner.session.execute(create, sql)
    plan = runner.session.plan(select)
    runner.run_query(L.Sink(plan.fields, plan.changelog, input=plan, table="t", connector="collect"),
                                Collect())
    read = pa.Table.from_batches(Collect.batches).select(NAMES)
    assert read.to_pylist() == stream(config(), 3000, 3000).to_pylist()
