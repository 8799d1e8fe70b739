"""Debezium events whose image the op needs is null fail the job as in Flink 2.3, also where no column of the
image is read, or are skipped under ignore-parse-errors (golden cases filesystem_debezium_*: more of the format)."""
import pytest

from sqlstream.core.errors import SqlStreamError
from tests.golden import run_sql

EVENTS = ['{"before":null,"after":{"id":1},"op":"c"}', '{"before":null,"after":null,"op":"c"}',
          '{"before":{"id":1},"after":null,"op":"u"}', '{"before":null,"after":{"id":2},"op":"u"}',
          '{"before":{"id":1},"after":null,"op":"d"}']


def job(tmp_path, query: str, ignore: bool, events: list[str] = EVENTS) -> str:
    (tmp_path / "t.json").write_text("\n".join(events) + "\n")
    option = ", 'debezium-json.ignore-parse-errors' = 'true'" if ignore else ""
    return (f"CREATE TABLE t (id INT) WITH ('connector' = 'filesystem', 'path' = '{tmp_path}/t.json', "
            f"'format' = 'debezium-json'{option});\n{query}")


@pytest.mark.parametrize("query", ["SELECT * FROM t;", "SELECT COUNT(*) AS n FROM t;"])
def test_an_insert_without_its_after_image_fails_the_job(tmp_path, query):
    with pytest.raises(SqlStreamError, match=r"""Corrupt Debezium JSON message '\{"before":null,"after":null,"op":"c"\}'"""):
        run_sql(job(tmp_path, query, ignore=False))


def test_events_without_the_images_their_op_needs_are_skipped_under_ignore_parse_errors(tmp_path):
    assert run_sql(job(tmp_path, "SELECT * FROM t;", ignore=True)) == [
        {"id": 1, "op": "+I"}, {"id": 1, "op": "-D"}]
    skipped = run_sql(job(tmp_path, "SELECT COUNT(*) AS n FROM t;", ignore=True), batch_size=1)
    kept = [EVENTS[0], EVENTS[4]]
    assert skipped == run_sql(job(tmp_path, "SELECT COUNT(*) AS n FROM t;", ignore=False, events=kept), batch_size=1)
