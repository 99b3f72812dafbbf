"""TF Serving's float printing (WriteDecimal) and the float32 rounding it relies on."""

from __future__ import annotations

import math
import struct
from array import array
from fractions import Fraction

_F32 = struct.Struct("<f")


def _f32(x: float) -> float:
    """double -> float as C's static_cast: nearest, overflow to +-inf."""
    try:
        return _F32.unpack(_F32.pack(x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _f32_step(x: float, up: bool) -> float:
    bits = struct.unpack("<I", _F32.pack(x))[0]
    if x == 0:
        bits = 1 if up else 0x80000001
    elif (x > 0) == up:
        bits += 1
    else:
        bits -= 1
    return _F32.unpack(struct.pack("<I", bits))[0]


def f32_from_decimal(s: str) -> float:
    """strtof(s): decimal -> nearest float, rounding once (double-then-float can round twice)."""
    d = float(s)
    r = _f32(d)
    if r == d or math.isinf(r):
        return r
    other = _f32_step(r, d > r)
    if d - r != other - d:
        return r
    exact = Fraction(s)  # d is a tie between two floats: decide on the decimal itself
    if exact == Fraction(d):
        return r
    return max(r, other) if exact > Fraction(d) else min(r, other)


def float_tokens(values, dtype: str) -> list[str]:
    """WriteDecimal for each value: a float32 tensor's values are first cast to float32, as Serving holds them."""
    double = dtype == "DT_DOUBLE"
    values = list(map(float, values)) if double else array("f", values).tolist()
    six = [format(v, ".6g") for v in values]  # printf's %.6g, which absl::StrCat(float) equals
    back = list(map(float, six))  # strtod
    back32 = back if double else array("f", back).tolist()  # strtof, but for a double rounding (see below)
    out = []
    for v, s, d, r in zip(values, six, back, back32):
        if v - v != 0:  # NaN or +-inf
            s = "NaN" if math.isnan(v) else "Infinity" if v > 0 else "-Infinity"
        else:
            if d != v and (r != v or not (double or _parses_to_f32(s, d, v))):
                s = format(v, ".17g" if double else ".9g")  # max_digits10
            if "." not in s and "e" not in s:
                s += ".0"
        out.append(s)
    return out


def _parses_to_f32(s: str, d: float, v: float) -> bool:
    """strtof(s) == v, given d = strtod(s) and float(d) == v."""
    c = d * 268435457.0  # Veltkamp split: c - (c - d) is d rounded to 25 significant bits
    if c - (c - d) == d or abs(v) < 1.1754943508222875e-38:
        return f32_from_decimal(s) == v  # d may sit exactly between two floats (or v is subnormal)
    return True


def format_float(value: float, dtype: str = "DT_FLOAT") -> str:
    """Serving's WriteDecimal: %.6g when it round-trips in the type, else %.9g (float) / %.17g (double);
    ".0" added when neither "." nor "e" shows; NaN, Infinity, -Infinity as bare tokens."""
    return float_tokens((value,), dtype)[0]
