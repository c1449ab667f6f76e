"""Numbers as people read them: every figure with its unit, a dash when unknown."""

from __future__ import annotations

DASH = "—"
GIB = 1024**3


def ms(seconds: float | None) -> str:
    """Seconds → "123 ms" / "1.23 s"."""
    if seconds is None:
        return DASH
    v = seconds * 1e3
    if v >= 10_000:
        return f"{seconds:.1f} s"
    if v >= 1000:
        return f"{seconds:.2f} s"
    if v >= 100:
        return f"{v:.0f} ms"
    return f"{v:.1f} ms"


def gib(n: float | None) -> str:
    return DASH if n is None else f"{n / GIB:.1f} GiB"


def pct(frac: float | None, digits: int = 0) -> str:
    return DASH if frac is None else f"{frac * 100:.{digits}f}%"


def tps(v: float | None) -> str:
    if v is None:
        return DASH
    return f"{v / 1000:.1f}k tok/s" if v >= 10_000 else f"{v:,.0f} tok/s"


def rps(v: float | None) -> str:
    return DASH if v is None else f"{v:.1f} req/s"


def usd(v: float | None, unit: str = "") -> str:
    """Dollars, cents below $10, whole dollars above; ``unit`` like "/mo" appended."""
    if v is None:
        return DASH
    s = f"${v:,.2f}" if abs(v) < 10 else f"${v:,.0f}"
    return s + unit


def signed_usd(v: float | None, unit: str = "") -> str:
    if v is None:
        return DASH
    sign = "+" if v > 0 else "−" if v < 0 else "±"
    return sign + usd(abs(v), unit)


def signed_pct(frac: float | None) -> str:
    if frac is None:
        return DASH
    sign = "+" if frac > 0 else "−" if frac < 0 else "±"
    return f"{sign}{abs(frac) * 100:.0f}%"


def duration(seconds: float) -> str:
    """Elapsed time as h:mm:ss or m:ss."""
    s = int(max(seconds, 0))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def level(v: float, unit: str) -> str:
    return f"{v:g} {unit}"


def bar(used: float | None, total: float | None, reserved: float | None, width: int) -> str:
    """A text bar: █ used, ▒ reserved, ░ free (plain characters, safe in 16 colours)."""
    if used is None or not total or width <= 0:
        return "░" * max(width, 0)
    u = round(min(max(used / total, 0), 1) * width)
    r = round(min(max((reserved or 0) / total, 0), 1) * width)
    r = min(r, width - u)
    return "█" * u + "▒" * r + "░" * (width - u - r)
