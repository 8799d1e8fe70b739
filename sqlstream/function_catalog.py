"""User functions as Flink keeps them: temporary system functions (one global name), temporary catalog functions
and catalog functions (each in a catalog and database), with Flink's rules and messages for CREATE, DROP,
ALTER, SHOW USER FUNCTIONS and DESCRIBE FUNCTION.

A function's definition is its class name and language. A Python function (LANGUAGE PYTHON, or no LANGUAGE and
a 'module.function' path) is declared at CREATE and imported when a statement first uses it. A JVM class (LANGUAGE JAVA or SCALA, or
Flink's default language when the class is not a Python function) can never be loaded here: its definition is
kept (listed, altered, dropped, so a Flink script's DDL runs), and a query calling it or DESCRIBE FUNCTION fails
with Flink's 'Cannot instantiate user-defined function' and why.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlstream.core.errors import ValidationError


@dataclass
class FunctionDef:
    """One user function: where it lives, what class implements it, and in which language."""

    name: str  # as written
    class_name: str
    language: str  # PYTHON | JAVA | SCALA
    kind: str  # SYSTEM (temporary system) | TEMPORARY (temporary catalog) | CATALOG
    catalog: str | None = None
    database: str | None = None
    runnable: object | None = None  # the loaded Python function

    @property
    def temporary(self) -> bool:
        return self.kind != "CATALOG"

    def qualified(self) -> str:
        return self.name if self.kind == "SYSTEM" else f"{self.catalog}.{self.database}.{self.name}"


class JvmFunction:
    """A function whose class is a JVM class: known to the catalog, refused when a query calls it."""

    def __init__(self, qualified: str, class_name: str, language: str):
        self.qualified, self.class_name, self.language = qualified, class_name, language

    def _refuse(self):
        raise ValidationError(cannot_instantiate(self.qualified, self.class_name, self.language))

    @property
    def result_type(self):
        self._refuse()

    @property
    def result_types(self):
        self._refuse()


def cannot_instantiate(qualified: str, class_name: str, language: str) -> str:
    return (f"Cannot instantiate user-defined function '{qualified}': its class '{class_name}' is "
            f"{'a ' + language.title() + ' class' if language != 'PYTHON' else 'not a Python function'}, and "
            f"sqlstream runs Python functions only (CREATE FUNCTION .. AS 'module.function' LANGUAGE PYTHON)")


class FunctionCatalog:
    """The session's user functions by kind and namespace; resolution and listing as Flink does them."""

    def __init__(self):
        self.entries: list[FunctionDef] = []

    def find(self, kind: str, name: str, catalog: str | None = None, database: str | None = None
             ) -> FunctionDef | None:
        for f in self.entries:
            if f.kind == kind and f.name.lower() == name.lower() and \
                    (kind == "SYSTEM" or (f.catalog, f.database) == (catalog, database)):
                return f
        return None

    def create(self, f: FunctionDef, if_not_exists: bool) -> bool:
        """Add a function; False when it exists and IF NOT EXISTS was given."""
        if self.find(f.kind, f.name, f.catalog, f.database) is not None:
            if if_not_exists:
                return False
            if f.kind == "SYSTEM":
                raise ValidationError(f"Could not register temporary system function. A function named "
                                      f"'{f.name}' does already exist.")
            if f.kind == "TEMPORARY":
                raise ValidationError(f"Could not register temporary catalog function. A function "
                                      f"'{f.qualified()}' does already exist.")
            raise ValidationError(f"Function {f.database}.{f.name} already exists in Catalog {f.catalog}.")
        self.entries.append(f)
        return True

    def drop(self, kind: str, name: str, catalog: str | None, database: str | None, if_exists: bool
             ) -> FunctionDef | None:
        f = self.find(kind, name, catalog, database)
        if f is None:
            if if_exists:
                return None
            if kind == "SYSTEM":
                raise ValidationError(f"Could not drop temporary system function. A function named '{name}' "
                                      f"doesn't exist.")
            if kind == "TEMPORARY":
                raise ValidationError(f"Temporary catalog function `{catalog}`.`{database}`.`{name}` doesn't "
                                      f"exist")
            raise ValidationError(f"Function {database}.{name} does not exist in Catalog {catalog}.")
        self.entries.remove(f)
        return f

    def alter(self, name: str, catalog: str, database: str, class_name: str, language: str, temporary: bool,
              system: bool, if_exists: bool) -> FunctionDef | None:
        if system:
            raise ValidationError("Alter temporary system function is not supported")
        if temporary:
            raise ValidationError("Alter temporary catalog function is not supported")
        f = self.find("CATALOG", name, catalog, database)
        if f is None:
            if if_exists:
                return None
            raise ValidationError(f"Function {database}.{name} does not exist in Catalog {catalog}.")
        f.class_name, f.language = class_name, language
        return f

    def user_functions(self, catalog: str, database: str) -> list[str]:
        """SHOW USER FUNCTIONS: temporary system functions and the functions of one database, sorted."""
        names = [f.name for f in self.entries if f.kind == "SYSTEM" or (f.catalog, f.database) == (catalog, database)]
        return sorted(names)

    def resolve(self, name: str, catalog: str, database: str) -> FunctionDef | None:
        """A bare name as Flink resolves it: temporary system, then (after built-ins) temporary catalog, then
        catalog function of the current database."""
        for kind in ("SYSTEM", "TEMPORARY", "CATALOG"):
            f = self.find(kind, name, None if kind == "SYSTEM" else catalog, None if kind == "SYSTEM" else database)
            if f is not None:
                return f
        return None

    def still_named(self, name: str) -> FunctionDef | None:
        """Any function left with this name (after a drop: whether the name still resolves somewhere)."""
        return next((f for f in self.entries if f.name.lower() == name.lower()), None)


def describe_rows(f: FunctionDef, extended: bool) -> list[list[str]]:
    """DESCRIBE FUNCTION [EXTENDED] of a user function: Flink's info names and values (a temporary system
    function shows no class, as in Flink)."""
    if f.runnable is None:
        raise ValidationError(cannot_instantiate(f.qualified(), f.class_name, f.language))
    system = f.kind == "SYSTEM"
    rows = [["is system function", "true" if system else "false"], ["is temporary", "true" if f.temporary else
                                                                    "false"]]
    if not system:
        rows += [["class name", f.class_name], ["function language", f.language], ["resource uris", "[]"]]
    if extended:
        kind = "TABLE" if type(f.runnable).__name__ == "PythonTableFunction" else "AGGREGATE" if \
            type(f.runnable).__name__ == "PythonAggregateFunction" else "SCALAR"
        rows += [["kind", kind], ["requirements", "[]"], ["is deterministic", "true"],
                 ["supports constant folding", "true"], ["signature", f"{f.qualified()}(*)"]]
    return rows


def describe_builtin_rows(name: str, aggregate: bool, extended: bool) -> list[list[str]]:
    """DESCRIBE FUNCTION [EXTENDED] of a built-in function."""
    rows = [["is system function", "true"], ["is temporary", "false"]]
    if extended:
        rows += [["kind", "AGGREGATE" if aggregate else "SCALAR"], ["requirements", "[]"],
                 ["is deterministic", "true"], ["supports constant folding", "true"]]
    return rows


# ---- statements ------------------------------------------------------------------------------------------------
def _declare_python(name: str, class_name: str, language: str | None):
    """The declared Python function a definition names (imported when first used), or None for a JVM class:
    LANGUAGE JAVA or SCALA, or no LANGUAGE (Flink's default is JAVA) and a name that is not a Python
    'module.function' path ('LowerUDF', 'org.example.Outer$Inner')."""
    from sqlstream.core import udf
    if language not in (None, "PYTHON"):
        return None
    if language is None and not (class_name.count(".") and all(p.isidentifier() for p in class_name.split("."))):
        return None
    return udf.declare(name, class_name)


def create_function(session, name_expr, class_name: str, language: str | None, kind: str,
                    if_not_exists: bool) -> None:
    """CREATE [TEMPORARY [SYSTEM]] FUNCTION [IF NOT EXISTS] name AS 'class' [LANGUAGE ..]."""
    from sqlstream.core import udf
    cm = session.catalog
    if kind == "SYSTEM":
        name, catalog, database = name_expr if isinstance(name_expr, str) else name_expr.name, None, None
    else:
        ident = cm.identifier(name_expr)
        cm.database(ident.catalog, ident.database)  # the database must exist
        name, catalog, database = ident.name, ident.catalog, ident.database
    f = FunctionDef(name, class_name, language or "JAVA", kind, catalog, database)
    if session.user_functions.find(kind, name, catalog, database) is not None and if_not_exists:
        return
    runnable = _declare_python(name, class_name, language)
    if runnable is not None:
        f.language = "PYTHON"
    f.runnable = runnable
    session.user_functions.create(f, if_not_exists)
    if runnable is not None:
        session.functions[name.upper()] = runnable
    elif name.upper() not in session.functions:  # a call fails saying why, not 'No match found'
        udf.REGISTRY[name.upper()] = JvmFunction(f.qualified(), class_name, f.language)


def drop_function(session, name_expr, kind: str, if_exists: bool) -> None:
    """DROP [TEMPORARY [SYSTEM]] FUNCTION [IF EXISTS] name."""
    from sqlstream.core import udf
    if kind == "SYSTEM":
        name, catalog, database = name_expr if isinstance(name_expr, str) else name_expr.name, None, None
    else:
        ident = session.catalog.identifier(name_expr)
        name, catalog, database = ident.name, ident.catalog, ident.database
    dropped = session.user_functions.drop(kind, name, catalog, database, if_exists)
    if dropped is not None and session.user_functions.still_named(name) is None:
        session.functions.pop(name.upper(), None)
        udf.REGISTRY.pop(name.upper(), None)


def alter_function(session, stmt) -> None:
    """ALTER [TEMPORARY [SYSTEM]] FUNCTION [IF EXISTS] name AS 'class' [LANGUAGE ..]."""
    from sqlstream.core import udf
    ident = session.catalog.identifier(stmt.this)
    language = stmt.args["language"].name.upper() if stmt.args.get("language") else None
    class_name = stmt.expression.name
    f = session.user_functions.alter(ident.name, ident.catalog, ident.database, class_name, language or "JAVA",
                                     bool(stmt.args.get("temporary")), bool(stmt.args.get("system")),
                                     bool(stmt.args.get("exists")))
    if f is None:
        return
    f.runnable = _declare_python(f.name, class_name, language)
    if f.runnable is not None:
        f.language = "PYTHON"
        session.functions[f.name.upper()] = f.runnable
    else:
        session.functions.pop(f.name.upper(), None)
        udf.REGISTRY[f.name.upper()] = JvmFunction(f.qualified(), class_name, f.language)


def show_user_functions(session, target) -> list[str]:
    """SHOW USER FUNCTIONS [FROM|IN [catalog.]database]."""
    cm = session.catalog
    if target is None:
        catalog, database = cm.current_catalog, cm.current_database
    else:
        ident = cm.identifier(target)  # a 2-part name is catalog.database
        catalog, database = (ident.database, ident.name) if target.args.get("db") else \
            (cm.current_catalog, ident.name)
        cm.database(catalog, database)
    return session.user_functions.user_functions(catalog, database)


def _loaded(session, f: FunctionDef) -> FunctionDef:
    """The function with its Python module imported (DESCRIBE EXTENDED tells its kind: a use of the function)."""
    from sqlstream.core import udf
    if isinstance(f.runnable, udf.DeclaredFunction):
        f.runnable = udf.load(f.name, f.runnable.path, session.config.get("python.files"))
        if isinstance(session.functions.get(f.name.upper()), udf.DeclaredFunction):
            session.functions[f.name.upper()] = f.runnable
    return f


def describe_function(session, name_expr, extended: bool, builtin_kind: str | None) -> list[list[str]]:
    """DESCRIBE FUNCTION [EXTENDED] name: a temporary system function first, then a built-in one, then the
    temporary catalog and catalog functions of the (given or current) database."""
    parts = [p for p in (name_expr.args.get("catalog"), name_expr.args.get("db")) if p is not None]
    uf = session.user_functions
    if not parts:
        f = uf.find("SYSTEM", name_expr.name)
        if f is not None:
            return describe_rows(_loaded(session, f) if extended else f, extended)
        if builtin_kind is not None:
            return describe_builtin_rows(name_expr.name, builtin_kind == "AGGREGATE", extended)
    ident = session.catalog.identifier(name_expr)
    f = uf.find("TEMPORARY", ident.name, ident.catalog, ident.database) or \
        uf.find("CATALOG", ident.name, ident.catalog, ident.database)
    if f is None:
        shown = ".".join(f"`{p}`" for p in [*(p.name for p in parts), name_expr.name])
        raise ValidationError(f"Function with the identifier '{shown}' doesn't exist.")
    return describe_rows(_loaded(session, f) if extended and f.runnable is not None else f, extended)
