"""Secret-bearing options (Kafka SASL/SSL, JDBC password, Iceberg/S3 credentials) are masked wherever sqlstream
prints or stores text: DESCRIBE, SET listings, parse errors and their caret line, EXPLAIN, error messages and job
summaries, and the shell's history file, which only its owner may read."""
import io
import os
import stat

import pytest

from sqlstream.core import secrets
from sqlstream.cli import run_file
from sqlstream.core.errors import SqlError, ValidationError
from sqlstream.history import PrivateHistory
from sqlstream.script import ScriptRunner
from sqlstream.session import Session, parse_script
from sqlstream.shell import Shell

PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----"
KAFKA = f"""CREATE TABLE k (a INT) WITH (
  'connector' = 'kafka', 'topic' = 't', 'format' = 'json', 'properties.bootstrap.servers' = 'localhost:9',
  'properties.sasl.jaas.config' = 'org.apache.kafka.common.security.plain.PlainLoginModule required
     username="alice" password="jaas-pass-1";',
  'properties.sasl.password' = 'sasl-pass-2', 'properties.ssl.key.password' = 'key-pass-3',
  'properties.ssl.keystore.password' = 'store-pass-4', 'properties.ssl.keystore.key' = '{PRIVATE_KEY}',
  'properties.ssl.truststore.password' = 'trust-pass-5');
"""
SECRETS = ["jaas-pass-1", "sasl-pass-2", "key-pass-3", "store-pass-4", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
           "trust-pass-5"]


def shown(text: str) -> list[str]:
    return [s for s in SECRETS + ["s3-secret-6", "s3-key-7", "jdbc-pass-8", "token-9"] if s in text]


@pytest.mark.parametrize("key", [
    "properties.sasl.jaas.config", "properties.sasl.password", "properties.ssl.key.password",
    "properties.ssl.keystore.password", "properties.ssl.keystore.key", "properties.ssl.truststore.password",
    "password", "s3.secret-access-key", "s3.access-key-id", "credential", "token", "oauth.client-secret",
    "properties.sasl.oauthbearer.client.secret", "my.private.key", "api_token", "PASSWORD"])
def test_secret_keys(key):
    assert secrets.is_secret(key)


@pytest.mark.parametrize("key", ["topic", "format", "key.fields", "key.format", "properties.bootstrap.servers",
                                 "properties.sasl.mechanism", "properties.security.protocol", "path",
                                 "scan.startup.mode", "properties.ssl.keystore.location"])
def test_ordinary_keys(key):
    assert not secrets.is_secret(key)


def test_describe_masks_every_secret_option():
    s = Session()
    s.execute(parse_script(KAFKA)[0])
    res = s.execute(parse_script("DESCRIBE k;")[0])
    assert "'properties.ssl.keystore.key' = '******'" in res.message
    assert "'properties.sasl.jaas.config' = '******'" in res.message
    assert "'topic' = 't'" in res.message and "'properties.bootstrap.servers' = 'localhost:9'" in res.message
    assert shown(res.message) == [] and "alice" not in res.message


def test_set_listing_masks_secret_settings():
    s = Session()
    for stmt in parse_script("SET 's3.secret-access-key' = 's3-secret-6'; SET 'pipeline.name' = 'visible';"):
        s.execute(stmt)
    rows = dict(s.execute(parse_script("SET;")[0]).rows)
    assert rows["s3.secret-access-key"] == "******" and rows["pipeline.name"] == "visible"


@pytest.mark.parametrize("sql,where", [
    ("CREATE TABLE j (a INT) WITH ('connector' = 'jdbc', 'password' = 'jdbc-pass-8' 'url' = 'x');", "= 'x'"),
    ("SET 'token' = 'token-9' oops;", "oops"),
    ("CREATE TABLE j (a INT) WITH ('password' = 'jdbc-pass-8', 'x' = );", ")"),
    ("CREATE TABLE j (a INT) WITH ('connector' = 'jdbc',\n  's3.secret-access-key' = 's3-secret-6', bad);", "bad"),
])
def test_parse_errors_do_not_echo_secrets(sql, where):
    with pytest.raises(SqlError) as e:
        parse_script(sql)
    text = str(e.value) + "\n" + e.value.caret()
    assert shown(text) == [], text
    line, caret = e.value.caret().split("\n")
    assert "'******'" in line
    assert line[caret.index("^"):].startswith(where), "the caret still points at the offending token"


def test_an_unterminated_secret_literal_is_not_echoed(tmp_path, capsys):
    job = tmp_path / "job.sql"
    job.write_text("CREATE TABLE j (a INT) WITH ('connector' = 'jdbc', 'password' = 'jdbc-pass-8);\n")
    assert run_file(str(job), "table", None) == 1
    err = capsys.readouterr().err
    assert "ERROR" in err and shown(err) == [], err


def test_explain_shows_no_option_values():
    s = Session()
    s.execute(parse_script(
        "CREATE TABLE k (a INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json', "
        "'properties.bootstrap.servers' = 'localhost:9', 'properties.sasl.jaas.config' = "
        "'org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" "
        "password=\"jaas-pass-1\";', 'properties.ssl.key.password' = 'key-pass-3');")[0])
    text = s.execute(parse_script(
        "EXPLAIN SELECT a FROM k /*+ OPTIONS('properties.ssl.key.password' = 'key-pass-3') */;")[0]).message
    assert "TableSourceScan" in text and shown(text) == [], text


def test_errors_and_job_output_mask_secrets_a_script_set(tmp_path, capsys):
    job = tmp_path / "job.sql"
    job.write_text("SET 'properties.sasl.password' = 'sasl-pass-2';\nSELECT * FROM `sasl-pass-2`;\n")
    assert run_file(str(job), "table", None) == 1
    err = capsys.readouterr().err
    assert "not found" in err and "******" in err and shown(err) == [], err
    assert "sasl-pass-2" not in str(ValidationError("connect failed: bad password sasl-pass-2"))


def test_job_summary_of_a_job_with_secret_settings(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    data = tmp_path / "d.csv"
    data.write_text("1\n2\n")
    ScriptRunner(out=out, err=err, fmt="csv").run(
        f"SET 'password' = 'jdbc-pass-8';\nSET 's3.access-key-id' = 's3-key-7';\n"
        f"CREATE TABLE f (a INT) WITH ('connector' = 'filesystem', 'path' = '{data}', 'format' = 'csv');\n"
        f"SELECT a FROM f;\n")
    assert "Job finished" in err.getvalue() and out.getvalue().splitlines()[1:] == ["+I,1", "+I,2"]
    assert shown(out.getvalue() + err.getvalue()) == []


def run_shell(text: str, history: str) -> str:
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    out = io.StringIO()
    shell = Shell(out=out, history=history)
    with create_pipe_input() as pipe:
        pipe.send_text(text)
        shell.loop(input=pipe, output=DummyOutput())
    return out.getvalue()


def test_history_file_is_private_and_stores_statements_masked(tmp_path):
    history = tmp_path / "history"
    out = run_shell(KAFKA.replace("\n", " ") + "\rSET 's3.access-key-id' = 's3-key-7';\r"
                    "SET s3.secret-access-key = s3-secret-6;\rDESCRIBE k;\rQUIT;\r", str(history))
    assert "'topic' = 't'" in out and shown(out) == [], out
    assert stat.S_IMODE(os.stat(history).st_mode) == 0o600
    text = history.read_text()
    assert "'properties.sasl.password' = '******'" in text and "SET s3.secret-access-key = ******" in text
    assert "'topic' = 't'" in text and "DESCRIBE k;" in text
    assert shown(text) == [] and "alice" not in text, text


def test_an_existing_history_file_is_made_private_and_its_secrets_masked(tmp_path):
    history = tmp_path / "history"
    history.write_text("\n# 2024-01-01\n+SET 'properties.sasl.password' = 'sasl-pass-2';\n"
                       "\n# 2024-01-02\n+SELECT 1;\n")
    os.chmod(history, 0o644)
    PrivateHistory(str(history))
    assert stat.S_IMODE(os.stat(history).st_mode) == 0o600
    text = history.read_text()
    assert "+SET 'properties.sasl.password' = '******';" in text and "+SELECT 1;" in text
    assert shown(text) == []


def test_show_create_table_masks_secret_options():
    s = Session()
    s.execute(parse_script(KAFKA)[0])
    ddl = s.execute(parse_script("SHOW CREATE TABLE k;")[0]).rows[0][0]
    assert "'properties.ssl.keystore.key' = '******'" in ddl and "'topic' = 't'" in ddl
    assert shown(ddl) == [] and "alice" not in ddl, ddl


def test_job_log_records_mask_secrets():
    import logging

    from sqlstream.runtime.job_log import job_log
    parse_script(KAFKA)
    out = io.StringIO()
    with job_log(out):
        logging.getLogger("sqlstream.kafka").warning("auth failed for sasl-pass-2 and jaas-pass-1")
    assert out.getvalue() == "WARNING: auth failed for ****** and ******\n"


def test_a_remembered_secret_is_masked_as_a_whole_word_only():
    secrets.remember("Pgsecret7")
    text = secrets.redact("table 'Pgsecret7-cdc' failed for jdbc:pg://u:Pgsecret7@db (Pgsecret7x); pw Pgsecret7")
    assert text == "table 'Pgsecret7-cdc' failed for jdbc:pg://u:******@db (Pgsecret7x); pw ******"
