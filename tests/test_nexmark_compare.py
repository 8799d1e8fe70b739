"""The Flink comparison's bookkeeping: sizes as written on the command line, medians over alternating rounds with
Flink's start taken off, and the machine the figures were measured on."""
from benchmarks.nexmark.__main__ import machine, size, summary


def test_sizes():
    assert size("5M") == 5_000_000 and size("100k") == 100_000 and size("1000000") == 1_000_000
    assert size("2.5m") == 2_500_000


def test_summary_takes_medians_and_leaves_flinks_start_out():
    def flink(job):
        return {"job_s": job, "one_row_job_s": 1.0, "startup_s": 4.0}

    def ours(secs):
        return {"seconds": secs, "cpu_s": secs * 0.9, "rows": 7, "peak_rss": 100, "process_s": secs + 0.5}
    row = summary([(flink(11.0), ours(2.0)), (flink(9.0), ours(3.0)), (flink(21.0), ours(2.5))], 1_000_000)
    assert row["flink_job_s"] == 11.0 and row["sqlstream_seconds"] == 2.5
    assert row["flink_events_per_s_without_start"] == 1_000_000 / 10.0
    assert row["ratio_without_flink_start"] == (1_000_000 / 2.5) / (1_000_000 / 10.0)
    assert row["ratio_whole_process_without_flink_start"] == (1_000_000 / 3.0) / (1_000_000 / 10.0)
    assert row["flink_startup_s"] == 4.0 and len(row["runs"]) == 3


def test_machine_names_cores_and_cpu():
    m = machine()
    assert m["cores"] >= 1 and m["cpu_model"] and len(m["load_average_at_start"]) == 3


def test_an_input_no_longer_than_a_one_row_job_gives_no_rate_without_start():
    row = summary([({"job_s": 0.9, "one_row_job_s": 1.0, "startup_s": 4.0},
                    {"seconds": 1.0, "cpu_s": 1.0, "rows": 0, "peak_rss": 1, "process_s": 1.4})], 1000)
    assert row["flink_events_per_s_without_start"] is None and row["ratio_without_flink_start"] is None
    assert row["ratio_whole_process_without_flink_start"] is None
