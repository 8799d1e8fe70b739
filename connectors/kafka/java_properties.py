"""A Flink table's `properties.*` are Java Kafka client settings; librdkafka takes most of them as they are.
SASL credentials come as a Java JAAS line (`properties.sasl.jaas.config`), which librdkafka wants as
`sasl.mechanism` / `sasl.username` / `sasl.password`: the login modules that carry a user name and password
(PLAIN and SCRAM) are translated, the others refused with what is supported. Java-only settings are refused
naming what to set instead."""
from __future__ import annotations

import re

from sqlstream.core.errors import OptionError

KAFKA_SECURITY = "org.apache.kafka.common.security."
MODULES = {  # login module (without a shading prefix) -> the SASL mechanisms it serves, the default first
    KAFKA_SECURITY + "plain.PlainLoginModule": ("PLAIN",),
    KAFKA_SECURITY + "scram.ScramLoginModule": ("SCRAM-SHA-256", "SCRAM-SHA-512"),
}
# a property librdkafka names differently, or cannot take at all: what to set instead
JAVA_ONLY = {
    "ssl.truststore.location": "'properties.ssl.ca.location' (a PEM file of CA certificates)",
    "ssl.truststore.password": "'properties.ssl.ca.location' (a PEM file needs no password)",
    "ssl.truststore.type": "'properties.ssl.ca.location' (PEM)",
    "ssl.keystore.type": "PEM files or a PKCS#12 (.p12) 'properties.ssl.keystore.location'",
    "sasl.login.callback.handler.class": "librdkafka's own 'properties.sasl.oauthbearer.*' settings",
    "sasl.client.callback.handler.class": "librdkafka's own 'properties.sasl.*' settings",
}
# set by the connector itself whatever the table says, as in Flink
OVERRIDDEN = ("key.deserializer", "value.deserializer", "key.serializer", "value.serializer")
FLAGS = ("required", "requisite", "sufficient", "optional")
_ENTRY = re.compile(r'\s*([A-Za-z_][\w.-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;"]+)\s*')


def _module(name: str) -> str | None:
    """The login module a class name means, with or without a shading prefix such as
    `org.apache.flink.kafka.shaded.`."""
    for module in MODULES:
        if name == module or name.endswith("." + module):
            return module
    return None


def parse_jaas(text: str, table: str) -> tuple[str, dict[str, str]]:
    """(login module, options) of a one-module JAAS line `Module flag key="value" ...;`."""
    m = re.fullmatch(r"\s*([\w.$]+)\s+(\w+)(.*?);?\s*", text, re.S)
    supported = " or ".join(f'{m} required username="..." password="...";' for m in MODULES)
    if not m:
        raise OptionError(f"Table '{table}': cannot read 'properties.sasl.jaas.config': expected "
                          f"'<LoginModule> required key=\"value\" ...;', for example {supported}")
    name, flag, rest = m.groups()
    if flag.lower() not in FLAGS:
        raise OptionError(f"Table '{table}': 'properties.sasl.jaas.config' has control flag '{flag}'; "
                          f"expected one of {', '.join(FLAGS)}")
    module = _module(name)
    if module is None:
        raise OptionError(f"Table '{table}': JAAS login module '{name}' in 'properties.sasl.jaas.config' is not "
                          f"supported (librdkafka does not run Java login modules). Supported: "
                          f"{', '.join(MODULES)} (also under a shading prefix such as "
                          f"'org.apache.flink.kafka.shaded.'); other mechanisms take librdkafka's own "
                          f"'properties.sasl.*' settings")
    options: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        e = _ENTRY.match(rest, pos)
        if e is None or e.end() == pos:
            raise OptionError(f"Table '{table}': cannot read the options of '{name}' in "
                              f"'properties.sasl.jaas.config' at character {len(text) - len(rest) + pos + 1}: "
                              f"expected key=\"value\"")
        key, value = e.group(1), e.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        options[key] = value
        pos = e.end()
    return module, options


def translate(props: dict[str, str], table: str) -> dict[str, str]:
    """The client properties for librdkafka: `sasl.jaas.config` replaced by its SASL settings."""
    for key in props:
        if key in JAVA_ONLY:
            instead = JAVA_ONLY[key]
            raise OptionError(f"Table '{table}': Kafka client property 'properties.{key}' is a Java client setting "
                              f"that librdkafka does not take; use {instead}")
    props = {k: v for k, v in props.items() if k not in OVERRIDDEN}
    if "sasl.jaas.config" not in props:
        return props
    out = {k: v for k, v in props.items() if k != "sasl.jaas.config"}
    module, options = parse_jaas(props["sasl.jaas.config"], table)
    mechanisms = MODULES[module]
    unknown = sorted(set(options) - {"username", "password"})
    if unknown:
        raise OptionError(f"Table '{table}': option(s) {', '.join(unknown)} of {module.rsplit('.', 1)[1]} in "
                          f"'properties.sasl.jaas.config' are not supported; supported: username, password")
    for key in ("username", "password"):
        if key not in options:
            raise OptionError(f"Table '{table}': 'properties.sasl.jaas.config' ({module.rsplit('.', 1)[1]}) "
                              f"needs {key}=\"...\"")
        if f"sasl.{key}" in out:
            raise OptionError(f"Table '{table}': set the SASL {key} either in 'properties.sasl.jaas.config' or "
                              f"in 'properties.sasl.{key}', not both")
    mechanism = out.get("sasl.mechanism", out.get("sasl.mechanisms"))
    if mechanism is None:
        if len(mechanisms) > 1:
            raise OptionError(f"Table '{table}': {module.rsplit('.', 1)[1]} in 'properties.sasl.jaas.config' needs "
                              f"'properties.sasl.mechanism' set to one of {', '.join(mechanisms)}")
        mechanism = mechanisms[0]
    elif mechanism.upper() not in mechanisms:
        raise OptionError(f"Table '{table}': 'properties.sasl.mechanism' = '{mechanism}' does not go with "
                          f"{module.rsplit('.', 1)[1]} in 'properties.sasl.jaas.config'; use one of "
                          f"{', '.join(mechanisms)}")
    out.pop("sasl.mechanisms", None)
    out["sasl.mechanism"] = mechanism.upper()
    out["sasl.username"], out["sasl.password"] = options["username"], options["password"]
    return out
