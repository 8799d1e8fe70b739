"""Catalogs, databases and DDL as Flink 2.3 has them (outputs and messages probed on Flink 2.3): 3-part names in
queries, DDL and INSERT, ALTER TABLE, CREATE TABLE LIKE, CTAS, SHOW CREATE, DESCRIBE, modules."""
import io

import pytest

from sqlstream.core.errors import SqlStreamError, ValidationError
from sqlstream.script import ScriptRunner
from sqlstream.session import Session, parse_script

GEN = "WITH ('connector' = 'datagen', 'number-of-rows' = '3')"
ORDERS = f"""CREATE TABLE orders (
 `user` BIGINT NOT NULL,
 product VARCHAR(32) COMMENT 'p',
 amount INT,
 ts TIMESTAMP(3),
 ptime AS PROCTIME(),
 PRIMARY KEY(`user`) NOT ENFORCED,
 WATERMARK FOR ts AS ts - INTERVAL '1' SECONDS
) COMMENT 'tbl comment' {GEN};
"""


def execute(session: Session, sql: str):
    out = None
    for stmt in parse_script(sql):
        out = session.execute(stmt)
    return out


def show_create(s: Session, what: str) -> str:
    return execute(s, f"SHOW CREATE {what};").rows[0][0]


def test_show_create_table_as_flink_writes_it():
    s = Session()
    execute(s, ORDERS)
    assert show_create(s, "TABLE orders") == """CREATE TABLE `default_catalog`.`default_database`.`orders` (
  `user` BIGINT NOT NULL,
  `product` VARCHAR(32) COMMENT 'p',
  `amount` INT,
  `ts` TIMESTAMP(3),
  `ptime` AS PROCTIME(),
  WATERMARK FOR `ts` AS `ts` - INTERVAL '1' SECOND,
  CONSTRAINT `PK_user` PRIMARY KEY (`user`) NOT ENFORCED
)
COMMENT 'tbl comment'
WITH (
  'connector' = 'datagen',
  'number-of-rows' = '3'
)
"""
    rows = execute(s, "DESCRIBE orders;")
    assert rows.columns == ["name", "type", "null", "key", "extras", "watermark", "comment"]
    assert rows.rows[0] == ["user", "BIGINT", "FALSE", "PRI(user)", "", "", ""]
    assert rows.rows[4] == ["ptime", "TIMESTAMP_LTZ(3) *PROCTIME*", "FALSE", "", "AS PROCTIME()", "", ""]


def test_catalogs_databases_and_three_part_names():
    s = Session()
    execute(s, "CREATE CATALOG c1 WITH ('type' = 'generic_in_memory'); CREATE DATABASE c1.db1;"
               f"CREATE TABLE c1.db1.t (a INT) {GEN}; CREATE VIEW c1.db1.v AS SELECT a FROM c1.db1.t;")
    assert execute(s, "SHOW CATALOGS;").rows == [["c1"], ["default_catalog"]]
    assert execute(s, "SHOW TABLES FROM c1.db1;").rows == [["t"], ["v"]]
    assert execute(s, "SHOW TABLES;").rows == []
    plan = s.plan(parse_script("SELECT a FROM c1.db1.v;")[0])
    assert plan.names == ["a"]
    execute(s, "USE CATALOG c1;")
    assert execute(s, "SHOW CURRENT DATABASE;").rows == [["default"]]
    execute(s, "USE db1;")
    assert s.plan(parse_script("SELECT a FROM t;")[0]).names == ["a"]
    with pytest.raises(ValidationError, match=r"Cannot drop a catalog which is currently in use\."):
        execute(s, "DROP CATALOG c1;")
    with pytest.raises(ValidationError, match=r"Cannot drop a database which is currently in use\."):
        execute(s, "DROP DATABASE db1;")
    execute(s, "USE `default`;")
    with pytest.raises(ValidationError, match=r"Database db1 in catalog c1 is not empty\."):
        execute(s, "DROP DATABASE db1;")
    execute(s, "DROP DATABASE db1 CASCADE;")
    with pytest.raises(ValidationError, match=r"A database with name \[db1\] does not exist in the catalog: \[c1\]"):
        execute(s, "USE db1;")
    with pytest.raises(ValidationError, match="Could not find any factory for identifier 'nope'"):
        execute(s, "CREATE CATALOG c2 WITH ('type' = 'nope');")


def test_alter_table_forms():
    s = Session()
    execute(s, ORDERS)
    execute(s, "ALTER TABLE orders RENAME TO o2;")
    execute(s, "ALTER TABLE o2 SET ('rows-per-second' = '5');")
    execute(s, "ALTER TABLE o2 RESET ('rows-per-second');")
    execute(s, "ALTER TABLE o2 RENAME amount TO qty;")
    execute(s, "ALTER TABLE o2 ADD (email STRING NOT NULL AFTER `user`, id BIGINT NOT NULL FIRST);")
    execute(s, "ALTER TABLE o2 MODIFY (WATERMARK FOR ts AS ts - INTERVAL '1' MINUTE, ts TIMESTAMP(3) NOT NULL AFTER id);")
    execute(s, "ALTER TABLE o2 DROP PRIMARY KEY; ALTER TABLE o2 ADD CONSTRAINT k PRIMARY KEY (id) NOT ENFORCED;")
    execute(s, "ALTER TABLE o2 DROP (product);")
    t = s.catalog.lookup("o2")
    assert [c.name for c in t.columns] == ["id", "ts", "user", "email", "qty", "ptime"]
    assert (t.primary_key, t.pk_constraint_name, t.options) == (["id"], "k", {"connector": "datagen",
                                                                              "number-of-rows": "3"})
    assert "WATERMARK FOR `ts` AS `ts` - INTERVAL '1' MINUTE" in show_create(s, "TABLE o2")
    with pytest.raises(ValidationError, match="Failed to execute ALTER TABLE statement.\nThe column `id` is used "
                                              "as the primary key."):
        execute(s, "ALTER TABLE o2 DROP id;")
    with pytest.raises(ValidationError, match="Referenced column `nope` by 'AFTER' does not exist in the table."):
        execute(s, "ALTER TABLE o2 ADD x INT AFTER nope;")
    with pytest.raises(ValidationError, match="ALTER TABLE RESET does not support empty key"):
        execute(s, "ALTER TABLE o2 RESET ();")
    with pytest.raises(ValidationError, match=r"Table `default_catalog`.`default_database`.`nope` doesn't exist"):
        execute(s, "ALTER TABLE nope RENAME TO x;")
    execute(s, "ALTER TABLE IF EXISTS nope RENAME TO x;")


def test_create_table_like_merges_as_flink():
    s = Session()
    execute(s, ORDERS)
    execute(s, "CREATE TABLE t7 (x INT) WITH ('connector' = 'blackhole') LIKE orders (EXCLUDING ALL);")
    t7 = s.catalog.lookup("t7")
    assert [c.name for c in t7.columns] == ["user", "product", "amount", "ts", "x"]
    assert (t7.primary_key, t7.watermark_column, t7.options) == ([], None, {"connector": "blackhole"})
    execute(s, "CREATE TABLE t8 (x INT) WITH ('connector' = 'blackhole') LIKE orders;")
    t8 = s.catalog.lookup("t8")
    assert [c.name for c in t8.columns] == ["user", "product", "amount", "ts", "ptime", "x"]
    assert t8.options == {"connector": "blackhole", "number-of-rows": "3"} and t8.primary_key == ["user"]
    with pytest.raises(ValidationError, match="A column named 'product' already exists in the base table."):
        execute(s, "CREATE TABLE t10 (product INT) LIKE orders;")
    with pytest.raises(ValidationError, match="There already exists a watermark spec for column 'ts'"):
        execute(s, "CREATE TABLE t11 (WATERMARK FOR ts AS ts) LIKE orders;")


def test_create_view_with_columns_and_show_create_view():
    s = Session()
    execute(s, ORDERS)
    execute(s, "CREATE TEMPORARY VIEW v (a, b) COMMENT 'c' AS SELECT `user`, product FROM orders;")
    assert execute(s, "DESCRIBE v;").rows[0][:3] == ["a", "BIGINT", "FALSE"]
    assert show_create(s, "VIEW v") == """CREATE TEMPORARY VIEW `default_catalog`.`default_database`.`v` (
  `a`,
  `b`
)
COMMENT 'c'
AS SELECT `orders`.`user`, `orders`.`product`
FROM `default_catalog`.`default_database`.`orders` AS `orders`
"""
    with pytest.raises(ValidationError, match="VIEW definition and input fields not match"):
        execute(s, "CREATE VIEW w (a) AS SELECT `user`, product FROM orders;")
    with pytest.raises(ValidationError, match="SHOW CREATE TABLE is only supported for tables"):
        execute(s, "SHOW CREATE TABLE v;")


def run(sql: str) -> str:
    out = io.StringIO()
    ScriptRunner(out=out, err=io.StringIO(), fmt="table").run(sql)
    return out.getvalue()


def test_ctas_and_static_partition_insert_write_rows(tmp_path):
    src = ("CREATE TABLE src (a INT) WITH ('connector' = 'datagen', 'number-of-rows' = '3', "
           "'fields.a.kind' = 'sequence', 'fields.a.start' = '1', 'fields.a.end' = '3');\n")
    run(src + f"CREATE TABLE out (x INT) WITH ('connector' = 'filesystem', 'path' = '{tmp_path}/o', "
        f"'format' = 'csv') AS SELECT a * 10 AS x FROM src;")
    assert sorted(ln for f in (tmp_path / "o").iterdir() for ln in f.read_text().split()) == ["10", "20", "30"]
    run(src + f"CREATE TABLE p (a INT, dt STRING) PARTITIONED BY (dt) WITH ('connector' = 'filesystem', "
        f"'path' = '{tmp_path}/p', 'format' = 'csv');\nINSERT INTO p PARTITION (dt = 'x') SELECT a FROM src;")
    part = tmp_path / "p" / "dt=x"
    assert sorted(ln for f in part.iterdir() for ln in f.read_text().split()) == ["1", "2", "3"]
    with pytest.raises(SqlStreamError, match="does not support to create temporary table"):
        run(src + "CREATE TEMPORARY TABLE t WITH ('connector' = 'blackhole') AS SELECT a FROM src;")


def test_primary_key_must_be_not_enforced_and_nullability_is_kept():
    s = Session()
    with pytest.raises(ValidationError, match="Flink doesn't support ENFORCED mode for PRIMARY KEY"):
        execute(s, f"CREATE TABLE t (a INT, CONSTRAINT k PRIMARY KEY (a)) {GEN};")
    execute(s, f"CREATE TABLE t (a INT NULL, b INT NOT NULL, CONSTRAINT k PRIMARY KEY (a) NOT ENFORCED) {GEN};")
    assert [r[2] for r in execute(s, "DESCRIBE t;").rows] == ["FALSE", "FALSE"]


def test_modules():
    s = Session()
    assert execute(s, "SHOW FULL MODULES;").rows == [["core", "TRUE"]]
    with pytest.raises(ValidationError, match="A module with name 'core' already exists"):
        execute(s, "LOAD MODULE core;")
    with pytest.raises(ValidationError, match="Module 'core' appears more than once"):
        execute(s, "USE MODULES core, core;")
    execute(s, "UNLOAD MODULE core;")
    assert execute(s, "SHOW MODULES;").rows == []


def test_types_and_filters_as_flink_shows_them():
    s = Session()
    execute(s, "CREATE TABLE p (b BYTES, ltz TIMESTAMP_LTZ(3), part STRING) PARTITIONED BY (part) "
               "WITH ('connector' = 'filesystem', 'path' = '/tmp/x', 'format' = 'csv');")
    assert [r[1] for r in execute(s, "DESCRIBE p;").rows] == ["BYTES", "TIMESTAMP_LTZ(3)", "STRING"]
    assert "`b` VARBINARY(2147483647),\n  `ltz` TIMESTAMP(3) WITH LOCAL TIME ZONE," in show_create(s, "TABLE p")
    assert "PARTITIONED BY (`part`)\nWITH (" in show_create(s, "TABLE p")
    with pytest.raises(ValidationError, match="The column `part` is used as the partition keys."):
        execute(s, "ALTER TABLE p RENAME part TO q;")
    with pytest.raises(SqlStreamError, match="ILIKE"):
        execute(s, "SHOW TABLES ILIKE 'P%';")
    assert execute(s, "SHOW DATABASES ILIKE 'DEF%';").rows == [["default_database"]]
    assert execute(s, "SHOW COLUMNS FROM p NOT LIKE '%t';").rows[0][0] == "b"


@pytest.mark.parametrize("batch_size", [1, 2, 10000])
def test_not_null_sink_column_is_enforced_as_flink(tmp_path, batch_size):
    """Flink 2.3: the job fails at the first NULL for a NOT NULL column, after the rows before it are written;
    with 'table.exec.sink.not-null-enforcer' = 'DROP' such rows are left out."""
    def job(path: str, setting: str = "") -> str:
        return (setting + f"CREATE TABLE snk (a INT NOT NULL, b STRING NOT NULL) WITH ('connector' = 'filesystem', "
                f"'path' = '{path}', 'format' = 'csv');\nINSERT INTO snk SELECT a, b FROM (VALUES (1, 'a'), "
                f"(2, CAST(NULL AS STRING)), (3, 'c')) AS t(a, b);")

    def rows(path) -> list[str]:
        return sorted(ln for f in path.iterdir() if not f.name.startswith(".") for ln in f.read_text().split())

    out = io.StringIO()
    with pytest.raises(SqlStreamError, match="Column 'b' is NOT NULL, however, a null value is being written"):
        ScriptRunner(out=out, err=io.StringIO(), fmt="table", batch_size=batch_size).run(job(f"{tmp_path}/e"))
    ScriptRunner(out=out, err=io.StringIO(), fmt="table", batch_size=batch_size).run(
        job(f"{tmp_path}/d", "SET 'table.exec.sink.not-null-enforcer' = 'DROP';\n"))
    assert rows(tmp_path / "d") == ["1,a", "3,c"]


@pytest.mark.parametrize("ddl, message", [
    ("CREATE TABLE t (a INT, b INT, UNIQUE (a) NOT ENFORCED)", "UNIQUE constraint is not supported yet"),
    ("CREATE TABLE t (a INT, c AS a + 1, PRIMARY KEY (c) NOT ENFORCED)",
     "A PRIMARY KEY constraint must be declared on physical columns"),
    ("CREATE TABLE t (a INT, a STRING)", "A regular Column named 'a' already exists in the table."),
    ("CREATE TABLE t (a INT PRIMARY KEY NOT ENFORCED, b INT, PRIMARY KEY (b) NOT ENFORCED)",
     "Duplicate primary key definition"),
])
def test_schema_errors_as_flink(ddl, message):
    with pytest.raises(ValidationError, match=message):
        execute(Session(), f"{ddl} {GEN};")


def test_column_primary_key_keeps_its_constraint_name():
    s = Session()
    execute(s, f"CREATE TABLE t (a INT CONSTRAINT pk PRIMARY KEY NOT ENFORCED, b INT) {GEN};")
    assert "CONSTRAINT `pk` PRIMARY KEY (`a`) NOT ENFORCED" in show_create(s, "TABLE t")
    with pytest.raises(ValidationError, match="of the LIKE clause not found in the catalog"):
        execute(s, "CREATE TABLE u (x INT) LIKE nope;")
