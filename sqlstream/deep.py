"""Deeply nested SQL: generated statements nest hundreds of levels deep, and the parser, planner and job set-up
follow that nesting by recursion. That work runs in threads with a large stack and a raised recursion limit, and
a statement that nests past what is supported is refused up front with an error naming the limit.

The recursion limit is process-wide in Python; it is raised while such a thread runs. The main thread keeps its
small stack, so it never does this work itself: it waits for the thread and handles signals meanwhile (also those the kernel
gave to another thread).
"""
from __future__ import annotations

import contextvars
import sys
import threading
from typing import Callable, TypeVar

from sqlstream.core.errors import SqlError, ValidationError

NESTING_LIMIT = 1000  # levels of parentheses, brackets and CASE .. END one statement may nest
RECURSION_LIMIT = 200_000  # Python frames a deep thread may use (about 120 MB of its stack at most)
STACK_BYTES = 512 * 1024 * 1024  # reserved address space per deep thread; pages are used only when touched
SIGNAL_LATENCY_S = 0.1  # how long a signal another thread received waits for its handler, at most

T = TypeVar("T")

_local = threading.local()
_limit_lock = threading.Lock()
_deep_threads = 0
_saved_limit = 0

NESTING_REMEDY = ("flatten it: a chain of ORs or an IN list instead of nested conditions, CASE with several WHEN "
                  "branches instead of nested CASEs, a WITH clause or a view instead of nested subqueries")


class NestingError(ValidationError):
    """A statement that nests deeper than sqlstream follows, or needs more recursion than it allows."""


def too_deep(what: str = "The statement") -> NestingError:
    return NestingError(f"{what} is too deeply nested or too long to plan: sqlstream supports up to "
                        f"{NESTING_LIMIT} nested levels (parentheses, CASE, subqueries) and operator chains that fit "
                        f"in {RECURSION_LIMIT} levels of recursion; {NESTING_REMEDY}")


def in_deep_thread() -> bool:
    return getattr(_local, "deep", False)


def _enter() -> None:
    global _deep_threads, _saved_limit
    with _limit_lock:
        if _deep_threads == 0:
            _saved_limit = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_saved_limit, RECURSION_LIMIT))
        _deep_threads += 1


def _leave() -> None:
    global _deep_threads
    with _limit_lock:
        _deep_threads -= 1
        if _deep_threads == 0:
            sys.setrecursionlimit(_saved_limit)


def deep_thread(target: Callable[[], None], name: str, daemon: bool = False) -> threading.Thread:
    """A started thread that runs `target` with a large stack and the raised recursion limit (where the system
    refuses such a stack, with the default stack and limit: deeply nested SQL then fails with a NestingError)."""
    ctx = contextvars.copy_context()

    def run(raise_limit: bool) -> None:
        _local.deep = True
        if raise_limit:
            _enter()
        try:
            ctx.run(target)
        finally:
            if raise_limit:
                _leave()
    with _limit_lock:  # the stack size applies to threads created while it is set
        old = threading.stack_size()
        try:
            threading.stack_size(STACK_BYTES)
            t = threading.Thread(target=run, args=(True,), name=name, daemon=daemon)
            t.start()
            return t
        except (RuntimeError, ValueError):
            pass
        finally:
            threading.stack_size(old)
    t = threading.Thread(target=run, args=(False,), name=name, daemon=daemon)
    t.start()
    return t


def run_deep(fn: Callable[..., T], *args, **kwargs) -> T:
    """fn(*args, **kwargs) in a deep thread (directly when already in one); its result or its exception.

    A RecursionError becomes a NestingError naming the limits, never a traceback."""
    if in_deep_thread():
        return _guarded(fn, *args, **kwargs)
    outcome: list = []

    def target() -> None:
        try:
            outcome.append((True, _guarded(fn, *args, **kwargs)))
        except BaseException as e:  # handed to the waiting thread
            outcome.append((False, e))
    t = deep_thread(target, "sqlstream-deep")
    while t.is_alive():
        # Python runs signal handlers in the main thread, in its own bytecode: an untimed join is woken only by
        # a signal the kernel gives to this thread, and one given to another thread (this one stopped, or with a
        # signal pending already) would wait for the job's end
        t.join(SIGNAL_LATENCY_S)
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _guarded(fn: Callable[..., T], *args, **kwargs) -> T:
    try:
        return fn(*args, **kwargs)
    except RecursionError:
        raise too_deep() from None


def check_nesting(sql: str, tokens) -> None:
    """Refuse a script whose parentheses, brackets or CASE .. END nest deeper than NESTING_LIMIT, at the token
    where the limit is passed (counted on tokens, without recursion)."""
    from sqlglot.tokens import TokenType
    opening = {TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.CASE}
    closing = {TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.END}
    depth = 0
    for tok in tokens:
        if tok.token_type in opening:
            depth += 1
            if depth > NESTING_LIMIT:
                from sqlstream.session import position
                line, col = position(sql, tok.start)
                raise SqlError(f"The statement nests deeper than {NESTING_LIMIT} levels (parentheses, brackets, "
                               f"CASE, subqueries), the most sqlstream supports; {NESTING_REMEDY}",
                               line, col, sql=sql)
        elif tok.token_type in closing and depth > 0:
            depth -= 1
        elif tok.token_type == TokenType.SEMICOLON:
            depth = 0
