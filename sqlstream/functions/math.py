"""Numeric functions: ABS, SIGN, ROUND, TRUNCATE, FLOOR, CEIL, POWER, the logarithms and trigonometry, E, PI,
RAND, RAND_INTEGER, with Flink's result types (ROUND of a DECIMAL narrows its scale, the rest of DOUBLE work in DOUBLE)."""
from __future__ import annotations

import decimal
import math
import weakref

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sqlstream.functions.arrow import DEC_CTX, cast_to, full
from sqlstream.functions.catalog import scalar
from sqlstream.core.errors import ExecutionError, ValidationError
from sqlstream.core.types import DOUBLE, INT, FlinkType
from sqlstream.functions.inference import (MAX_PRECISION, integers, nullable, require, returns,
                                           same_as_first)


def round_type(name: str, args: list[FlinkType]) -> FlinkType:
    a = args[0]
    require(name, args, a.is_numeric and 1 <= len(args) <= 2)
    if not a.is_decimal:
        return a.with_nullable(nullable(args)).without_time_attr()
    return a.with_nullable(nullable(args))


def round_decimal_type(a: FlinkType, r: int) -> FlinkType:
    """ROUND(DECIMAL(p, s), r): the scale becomes r (the binder knows r, a literal)."""
    p, s = a.precision, a.scale
    if r >= s:
        return a
    if r < 0:
        return FlinkType("DECIMAL", min(MAX_PRECISION, 1 + p - s), 0, a.nullable)
    return FlinkType("DECIMAL", 1 + p - s + r, r, a.nullable)


def floor_ceil_type(name: str, args: list[FlinkType]) -> FlinkType:
    if len(args) != 1:
        raise ValidationError(f"Invalid number of arguments to function '{name}'. Was expecting 1 arguments")
    a = args[0]
    if a.is_temporal:
        return a.without_time_attr()
    require(name, args, a.is_numeric)
    if a.is_decimal:  # DECIMAL(p, s) -> DECIMAL(p, 0), as Flink
        return FlinkType("DECIMAL", a.precision, 0, a.nullable)
    return a


def _round(e, args, n):
    x = full(args[0], n)
    r = args[1].as_py() if isinstance(args[1], pa.Scalar) else 0
    if abs(r) > 300 and pa.types.is_floating(x.type):  # 10.0 ** r would overflow: the decimal form, as Flink
        return _round_exactly(x, r, decimal.ROUND_DOWN if e.fn == "TRUNCATE" else decimal.ROUND_HALF_UP)
    if pa.types.is_integer(x.type) and (r >= 0 or r < -19):  # nothing to cut, or every digit cut
        return x if r >= 0 else pc.if_else(pc.is_null(x), pa.scalar(None, x.type), pa.scalar(0, x.type))
    if pa.types.is_integer(x.type):  # exactly, wrapping past the type's range as Java's long and casts do
        mode = "towards_zero" if e.fn == "TRUNCATE" else "half_towards_infinity"
        done = pc.round(pc.cast(x, pa.decimal128(38, 0)), ndigits=r, round_mode=mode)
        return pc.cast(pc.cast(done, pa.int64(), safe=False), x.type, safe=False)
    if pa.types.is_decimal(x.type) and x.type.precision < 38:  # room for a carry (99.99 -> 100.0)
        x = pc.cast(x, pa.decimal128(x.type.precision + 1, x.type.scale))
    if e.fn == "TRUNCATE":
        f = 10.0 ** r
        if pa.types.is_decimal(x.type):
            return pc.cast(pc.round(x, ndigits=r, round_mode="towards_zero"), e.type.to_arrow(), safe=False)
        return pc.divide(pc.trunc(pc.multiply(x, f)), f)
    if pa.types.is_decimal(x.type):
        return pc.cast(pc.round(x, ndigits=r, round_mode="half_towards_infinity"), e.type.to_arrow(), safe=False)
    return round_half_up(x, r)


def _round_exactly(x: pa.Array, r: int, mode: str) -> pa.Array:
    """ROUND/TRUNCATE of DOUBLE values to more than 300 places either side of the point, on each value's
    shortest decimal form."""
    ctx = decimal.Context(prec=1000, rounding=mode)
    step = decimal.Decimal(1).scaleb(-r)

    def one(v):
        if v is None or not math.isfinite(v):
            return v
        return float(decimal.Decimal(repr(v)).quantize(step, context=ctx)) + 0.0  # no -0.0
    return pa.array([one(v) for v in x.to_pylist()], x.type)


def round_half_up(x: pa.Array, r: int) -> pa.Array:
    """Flink's ROUND on DOUBLE: HALF_UP on the value's shortest decimal form (0.285 -> 0.29)."""
    vals = x.to_numpy(zero_copy_only=False).astype(np.float64)
    mask = np.asarray(pc.is_null(x).to_numpy(zero_copy_only=False))
    f = 10.0 ** r
    y = vals * f
    frac = np.abs(y - np.trunc(y))
    near_half = np.abs(frac - 0.5) < 1e-6
    out = np.where(y >= 0, np.floor(y + 0.5), -np.floor(-y + 0.5)) / f
    for i in np.flatnonzero(near_half & ~mask & np.isfinite(vals)):
        d = decimal.Decimal(repr(float(vals[i]))).quantize(decimal.Decimal(1).scaleb(-r), context=DEC_CTX)
        out[i] = float(d)
    return pa.array(out, x.type, mask=mask)


def _floor_ceil(fn):
    def impl(e, args, n):
        x = full(args[0], n)
        if pa.types.is_decimal(x.type):
            if x.type.precision < 38:  # room for a carry (99.5 -> 100)
                x = pc.cast(x, pa.decimal128(x.type.precision + 1, x.type.scale))
            return pc.cast(fn(x), e.type.to_arrow(), safe=False)
        if pa.types.is_integer(x.type):
            return x
        return fn(x)
    return impl


def _sign(e, args, n):
    x = args[0]
    if pa.types.is_decimal(x.type):  # -1, 0 or 1 in the argument's DECIMAL type
        x = cast_to(x, pa.float64())
    return pc.cast(pc.sign(x), e.type.to_arrow())


def _unary_float(fn):
    def impl(e, args, n):
        return fn(pc.cast(full(args[0], n), pa.float64()))
    return impl


def _power(e, args, n):
    return pc.power(pc.cast(full(args[0], n), pa.float64()), pc.cast(args[1], pa.float64()))


def _log(e, args, n):
    if len(args) == 1:
        return pc.ln(pc.cast(args[0], pa.float64()))
    return pc.divide(pc.ln(pc.cast(args[1], pa.float64())), pc.ln(pc.cast(args[0], pa.float64())))




class JavaRandom:
    """java.util.Random's 48-bit generator, so that a seeded sequence is the one Flink draws."""

    MULTIPLIER, ADDEND, MASK = 0x5DEECE66D, 0xB, (1 << 48) - 1

    def __init__(self, seed: int):
        self.seed = (seed ^ self.MULTIPLIER) & self.MASK

    def next_bits(self, bits: int) -> int:
        self.seed = (self.seed * self.MULTIPLIER + self.ADDEND) & self.MASK
        return self.seed >> (48 - bits)

    def next_double(self) -> float:
        return ((self.next_bits(26) << 27) + self.next_bits(27)) * 2.0 ** -53

    def next_int(self, bound: int) -> int:
        """Random.nextInt(bound): uniform in [0, bound), rejecting the draws that would bias it."""
        r, m = self.next_bits(31), bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + m < 1 << 31:  # else Java's int overflows: draw again
                return r
            u = self.next_bits(31)


# a seeded RAND or RAND_INTEGER call's generator, drawn from across batches (a new job starts from the seed, as
# Flink does when it opens the operator)
_SEEDED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _generator(e, seed: pa.Scalar, name: str) -> JavaRandom:
    if not isinstance(seed, pa.Scalar):
        raise ExecutionError(f"{name} needs a literal seed")
    gen = _SEEDED.get(e)
    if gen is None:
        gen = _SEEDED[e] = JavaRandom(seed.as_py())
    return gen


def _rand(e, args, n):
    """RAND([seed]): a DOUBLE in [0, 1); with a seed, each call continues that seed's sequence."""
    if not args:
        return pa.array(np.random.default_rng().random(n))
    if isinstance(args[0], pa.Scalar) and not args[0].is_valid:
        return pa.nulls(n, pa.float64())
    gen = _generator(e, args[0], "RAND")
    return pa.array([gen.next_double() for _ in range(n)], pa.float64())


def _rand_integer(e, args, n):
    """RAND_INTEGER([seed,] bound): an INT in [0, bound); with a seed, each call continues that seed's sequence."""
    *seed, bound = args
    bounds = full(bound, n, pa.int64()).to_pylist()
    if any(b is not None and b <= 0 for b in bounds):
        raise ExecutionError("RAND_INTEGER: the bound must be positive")
    if not seed:
        rng = np.random.default_rng()
        return pa.array([None if b is None else int(rng.integers(b)) for b in bounds], pa.int32())
    if isinstance(seed[0], pa.Scalar) and not seed[0].is_valid:
        return pa.nulls(n, pa.int32())
    gen = _generator(e, seed[0], "RAND_INTEGER")
    return pa.array([None if b is None else gen.next_int(b) for b in bounds], pa.int32())


def _float_fn(fn):
    """A numpy function of DOUBLE values, NULL where the input is NULL."""
    def impl(e, args, n):
        v = pc.cast(full(args[0], n), pa.float64())
        x = np.asarray(pc.fill_null(v, 0.0).to_numpy(zero_copy_only=False), dtype=np.float64)
        with np.errstate(all="ignore"):
            out = fn(x)
        return pa.array(out, pa.float64(), mask=np.asarray(pc.is_null(v).to_numpy(zero_copy_only=False)))
    return impl


def _atan2(e, args, n):
    y, x = (pc.cast(full(a, n), pa.float64()) for a in args)
    return pc.atan2(y, x)


_N, _I = "NUMERIC", "INTEGER"
_DOUBLE1 = returns(DOUBLE, (1, 1))
_NUMBER = ((_N,),)  # Calcite's operand family: a CHARACTER, time or collection argument is refused when planned

FUNCTIONS = (
    scalar("ABS", same_as_first, lambda e, a, n: pc.abs(a[0]), signatures=_NUMBER),
    scalar("SIGN", same_as_first, _sign, signatures=_NUMBER),
    scalar("ROUND", round_type, _round, signatures=((_N, _I), (_N,))),
    scalar("TRUNCATE", round_type, _round, signatures=((_N, _I), (_N,))),
    scalar("FLOOR", floor_ceil_type, _floor_ceil(pc.floor)),
    scalar("CEIL", floor_ceil_type, _floor_ceil(pc.ceil)),
    scalar("POWER", returns(DOUBLE, (2, 2)), _power, signatures=((_N, _N),)),
    scalar("SQRT", _DOUBLE1, _unary_float(pc.sqrt), signatures=_NUMBER),
    scalar("EXP", _DOUBLE1, _unary_float(pc.exp), signatures=_NUMBER),
    scalar("LN", _DOUBLE1, _unary_float(pc.ln), signatures=_NUMBER),
    scalar("LOG10", _DOUBLE1, _unary_float(pc.log10), signatures=_NUMBER),
    scalar("LOG2", _DOUBLE1, _unary_float(pc.log2), signatures=_NUMBER),
    scalar("LOG", returns(DOUBLE, (1, 2)), _log, signatures=((_N,), (_N, _N))),
    scalar("SIN", _DOUBLE1, _unary_float(pc.sin), signatures=_NUMBER),
    scalar("COS", _DOUBLE1, _unary_float(pc.cos), signatures=_NUMBER),
    scalar("TAN", _DOUBLE1, _unary_float(pc.tan), signatures=_NUMBER),
    scalar("ACOS", _DOUBLE1, _float_fn(np.arccos), signatures=_NUMBER),
    scalar("ASIN", _DOUBLE1, _float_fn(np.arcsin), signatures=_NUMBER),
    scalar("ATAN", _DOUBLE1, _float_fn(np.arctan), signatures=_NUMBER),
    scalar("COSH", _DOUBLE1, _float_fn(np.cosh), signatures=_NUMBER),
    scalar("SINH", _DOUBLE1, _float_fn(np.sinh), signatures=_NUMBER),
    scalar("TANH", _DOUBLE1, _float_fn(np.tanh), signatures=_NUMBER),
    scalar("COT", _DOUBLE1, _float_fn(lambda x: 1.0 / np.tan(x)), signatures=_NUMBER),
    scalar("DEGREES", _DOUBLE1, _float_fn(np.degrees), signatures=_NUMBER),
    scalar("RADIANS", _DOUBLE1, _float_fn(np.radians), signatures=_NUMBER),
    scalar("ATAN2", returns(DOUBLE, (2, 2)), _atan2, signatures=((_N, _N),)),
    scalar("E", returns(DOUBLE.with_nullable(False), (0, 0), keep_null=False), lambda e, a, n: pa.scalar(math.e)),
    scalar("PI", returns(DOUBLE.with_nullable(False), (0, 0), keep_null=False), lambda e, a, n: pa.scalar(np.pi)),
    scalar("RAND", returns(DOUBLE, (0, 1), keep_null=False, check=integers), _rand),  # an integer seed, as Flink
    scalar("RAND_INTEGER", returns(INT, (1, 2), check=integers), _rand_integer),
)
