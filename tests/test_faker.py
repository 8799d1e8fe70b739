"""faker connector: flink-faker's options and the Java Faker expressions the cookbook and flink-faker's README
use, evaluated by sqlstream's vectorized generators."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from sqlstream.connectors import faker_expressions as fe
from sqlstream.core.errors import OptionError
from sqlstream.script import ScriptRunner


def rows(ddl_fields: str, options: str, select: str = "SELECT * FROM t", n: int = 300, seed: str = "") -> list:
    import io
    import json
    out = io.StringIO()
    sql = (f"CREATE TABLE t ({ddl_fields}) WITH ('connector' = 'faker', 'number-of-rows' = '{n}', "
           f"'rows-per-second' = '0'{seed}, {options});\n{select};")
    ScriptRunner(out=out, err=io.StringIO(), fmt="jsonl", summary=False).run(sql)
    return [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]


# expression -> a check of one generated value (as Python sees it after the column's type)
EXPRESSIONS = {
    "#{Name.fullName}": lambda v: re.fullmatch(r"[A-Z][a-z']+ [A-Z][A-Za-z']+", v),
    "#{Name.full_name}": lambda v: len(v.split(" ")) == 2,
    "#{Name.firstName} #{Name.lastName}": lambda v: len(v.split(" ")) == 2,
    "#{superhero.name}": lambda v: len(v) > 3,
    "#{superhero.power}": lambda v: len(v) > 3,
    "#{harry_potter.characters}": lambda v: v in fe.W.HARRY_POTTER_CHARACTERS,
    "#{harry_potter.character}": lambda v: v in fe.W.HARRY_POTTER_CHARACTERS,
    "#{harry_potter.spells}": lambda v: v in fe.W.HARRY_POTTER_SPELLS,
    "#{harry_potter.spell}": lambda v: v in fe.W.HARRY_POTTER_SPELLS,
    "#{harry_potter.location}": lambda v: v in fe.W.HARRY_POTTER_LOCATIONS,
    "#{harry_potter.house}": lambda v: v in fe.W.HARRY_POTTER_HOUSES,
    "#{harry_potter.quote}": lambda v: v in fe.W.HARRY_POTTER_QUOTES,
    "#{dr_who.the_doctors}": lambda v: v.endswith("Doctor"),
    "#{RickAndMorty.character}": lambda v: v in fe.W.RICK_AND_MORTY_CHARACTERS,
    "#{RickAndMorty.location}": lambda v: v in fe.W.RICK_AND_MORTY_LOCATIONS,
    "#{Space.nasaSpaceCraft}": lambda v: v in fe.W.NASA_SPACECRAFT,
    "#{Space.star}": lambda v: v in fe.W.STARS,
    "#{HitchhikersGuideToTheGalaxy.character}": lambda v: v in fe.W.HHGTTG_CHARACTERS,
    "#{HitchhikersGuideToTheGalaxy.starship}": lambda v: v in fe.W.HHGTTG_STARSHIPS,
    "#{HitchhikersGuideToTheGalaxy.location}": lambda v: v in fe.W.HHGTTG_LOCATIONS,
    "#{Internet.publicIpV4Address}": lambda v: re.fullmatch(r"\d+\.\d+\.\d+\.\d+", v)
    and int(v.split(".")[0]) not in (10, 127) and not v.startswith("192.168."),
    "#{Internet.uuid}": lambda v: re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", v),
    "#{Internet.UUID}": lambda v: len(v) == 36,
    "#{Internet.userAgentAny}": lambda v: v.startswith(("Mozilla", "Opera")),
    "#{Commerce.productName}": lambda v: len(v.split(" ")) >= 3,
    "#{Currency.code}": lambda v: re.fullmatch(r"[A-Z]{3}", v),
    "#{Address.city}": lambda v: len(v) > 2,
    "#{Address.fullAddress}": lambda v: re.search(r", [A-Z]{2} \d{5}$", v),
    "#{regexify '(GET|POST|PUT|PATCH){1}'}": lambda v: v in ("GET", "POST", "PUT", "PATCH"),
    "#{regexify '(Deja\\ Brew|Lawn\\ \\&\\ Order){1}'}": lambda v: v in ("Deja Brew", "Lawn & Order"),
    "#{regexify '[A-Z]{2}[0-9]{1,3}'}": lambda v: re.fullmatch(r"[A-Z]{2}[0-9]{1,3}", v),
    "#{Options.option 'RECEIVED','SHIPPED','CANCELLED')}": lambda v: v in ("RECEIVED", "SHIPPED", "CANCELLED"),
    "-": lambda v: v == "-",
}


@pytest.mark.parametrize("expression", sorted(EXPRESSIONS))
def test_expression(expression):
    sql_text = expression.replace("'", "''")
    values = [r["c"] for r in rows("c STRING", f"'fields.c.expression' = '{sql_text}'", n=200)]
    assert len(values) == 200 and all(EXPRESSIONS[expression](v) for v in values), values[:5]
    assert len(set(values)) > 1 or expression == "-"


def test_numbers_dates_and_types():
    got = rows("i INT, d DOUBLE, dec DECIMAL(6, 4), ts TIMESTAMP(3), ltz TIMESTAMP_LTZ(3), f TIMESTAMP(3), "
               "b BOOLEAN, day DATE",
               "'fields.i.expression' = '#{number.numberBetween ''0'',''100''}', "
               "'fields.d.expression' = '#{Number.randomDouble ''2'',''1'',''150''}', "
               "'fields.dec.expression' = '#{Number.randomDouble ''4'',''0'',''10''}', "
               "'fields.ts.expression' = '#{date.past ''15'',''5'',''SECONDS''}', "
               "'fields.ltz.expression' = '#{date.past ''30'',''DAYS''}', "
               "'fields.f.expression' = '#{date.future ''365'',''DAYS''}', "
               "'fields.b.expression' = '#{bool.bool}', "
               "'fields.day.expression' = '#{date.birthday}'")
    now = datetime.utcnow()
    assert {r["i"] for r in got} <= set(range(100)) and len({r["i"] for r in got}) > 50
    assert all(1 <= r["d"] <= 150 and round(r["d"], 2) == r["d"] for r in got)
    assert all(0 <= float(r["dec"]) <= 10 for r in got)
    for r in got:
        age = now - datetime.fromisoformat(r["ts"])
        assert timedelta(seconds=4) <= age <= timedelta(seconds=60)
        assert datetime.fromisoformat(r["f"]) > now
    assert {r["b"] for r in got} == {True, False}


def test_null_rate_length_and_collections():
    got = rows("tags ARRAY<STRING>, ages MAP<STRING, INT>, hp ROW<house STRING, points INT>, n STRING",
               "'fields.tags.expression' = '#{harry_potter.spell}', 'fields.tags.length' = '3', "
               "'fields.ages.key.expression' = '#{harry_potter.character}', "
               "'fields.ages.value.expression' = '#{number.numberBetween ''10'',''100''}', "
               "'fields.ages.length' = '2', "
               "'fields.hp.house.expression' = '#{harry_potter.house}', "
               "'fields.hp.points.expression' = '#{number.numberBetween ''10'',''100''}', "
               "'fields.n.expression' = '#{Name.firstName}', 'fields.n.null-rate' = '0.5'", n=400)
    assert all(len(r["tags"]) == 3 and set(r["tags"]) <= set(fe.W.HARRY_POTTER_SPELLS) for r in got)
    assert all(1 <= len(r["ages"]) <= 2 for r in got)
    assert all(r["hp"][0] in fe.W.HARRY_POTTER_HOUSES and 10 <= r["hp"][1] < 100 for r in got)
    nulls = sum(r["n"] is None for r in got)
    assert 120 < nulls < 280


def test_seeded_and_independent_of_projection_and_batch_size():
    opts = ("'fields.a.expression' = '#{Name.fullName}', 'fields.b.expression' = "
            "'#{number.numberBetween ''0'',''1000''}'")
    first = rows("a STRING, b INT", opts)
    assert first == rows("a STRING, b INT", opts)
    assert [r["b"] for r in first] == [r["b"] for r in rows("a STRING, b INT", opts, "SELECT b FROM t")]
    assert first != rows("a STRING, b INT", opts, seed=", 'seed' = '7'")


def test_unsupported_expression_is_named():
    with pytest.raises(OptionError, match=r"Unsupported faker expression '#\{Pokemon.name\}'"):
        rows("c STRING", "'fields.c.expression' = '#{Pokemon.name}'")


def test_missing_expression_and_unknown_option():
    with pytest.raises(OptionError, match="fields.c.expression"):
        rows("c STRING, d STRING", "'fields.d.expression' = '#{Name.fullName}'")
    with pytest.raises(OptionError, match="fields.c.expresion"):
        rows("c STRING", "'fields.c.expression' = 'x', 'fields.c.expresion' = 'y'")


def test_value_that_does_not_fit_the_type():
    with pytest.raises(OptionError, match="not INT"):
        rows("c INT", "'fields.c.expression' = '#{Name.fullName}'")


def test_faker_md_lists_every_supported_expression():
    import os
    with open(os.path.join(os.path.dirname(__file__), "..", "FAKER.md")) as f:
        assert f.read() == fe.markdown(), "FAKER.md is stale: regenerate it with sqlstream.connectors.faker_expressions.markdown()"
