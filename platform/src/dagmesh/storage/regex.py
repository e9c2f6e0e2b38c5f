"""Python regular expressions that DuckDB (RE2) decides exactly as Python's `re` does.

pandera's `str_matches` / `str_contains` use Python's `re`; DuckDB's `regexp_matches` uses RE2, whose
`\\w`, `\\d`, `\\s` and `\\b` are ASCII-only, whose `$` does not match before a final newline, and which
has no look-around or back-references. Instead of hoping a pattern means the same in both, the pattern
is parsed with Python's own parser and re-emitted in RE2 syntax from the constructs whose meaning is
identical (literals by code point, classes of literals and ranges, `.`, repeats, groups, alternation,
`^`, `\\A`, `\\Z`, and a trailing `$`). Anything else returns None, and the check runs through pandera.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

import duckdb

try:  # Python 3.11+: the parser is re._parser (sre_parse is its deprecated alias)
    from re import _constants as c
    from re import _parser as parser
except ImportError:  # pragma: no cover
    import sre_constants as c  # type: ignore[no-redef]
    import sre_parse as parser  # type: ignore[no-redef]

_RE2_MAX_REPEAT = 1000
_ALLOWED_FLAGS = re.UNICODE | re.VERBOSE  # VERBOSE only changes parsing, already applied


class _Unsupported(Exception):
    pass


def _char(code: int) -> str:
    return f"\\x{{{code:x}}}"


def _emit(items: list, *, top_level: bool = False) -> str:
    out = []
    for index, (op, arg) in enumerate(items):
        last = top_level and index == len(items) - 1
        out.append(_emit_one(op, arg, last))
    return "".join(out)


def _emit_one(op: object, arg: object, last_at_top: bool) -> str:
    if op is c.LITERAL:
        return _char(arg)
    if op is c.NOT_LITERAL:
        return f"[^{_char(arg)}]"
    if op is c.ANY:
        return "."  # neither matches a newline without DOTALL
    if op is c.IN:
        return _emit_class(arg)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        low, high, sub = arg
        if low > _RE2_MAX_REPEAT or (high is not c.MAXREPEAT and high > _RE2_MAX_REPEAT):
            raise _Unsupported
        bounds = f"{{{low},}}" if high is c.MAXREPEAT else f"{{{low},{high}}}"
        lazy = "?" if op is c.MIN_REPEAT else ""
        body = _emit(list(sub))
        return _group(body) + bounds + lazy if body else ""
    if op is c.SUBPATTERN:
        _index, add_flags, del_flags, sub = arg
        if add_flags or del_flags:
            raise _Unsupported
        return _group(_emit(list(sub)))
    if op is c.BRANCH:
        _, alternatives = arg
        return "(?:" + "|".join(_emit(list(a)) for a in alternatives) + ")"
    if op is c.AT:
        if arg in (c.AT_BEGINNING, c.AT_BEGINNING_STRING):
            return "^"
        if arg is c.AT_END_STRING:
            return "\\z"
        if arg is c.AT_END and last_at_top:
            # Python's `$` also matches before one final newline; at the very end of the pattern
            # that is the same as consuming an optional newline and then the end of the text.
            return "\\n?\\z"
    raise _Unsupported


def _group(body: str) -> str:
    """A non-capturing group, or nothing for an empty body: DuckDB's regex optimizer reads an empty
    group beside one anchor (`^(?:)`, `(?:)\\z`) as "equals the empty string"."""
    return f"(?:{body})" if body else ""


def _emit_class(items: list) -> str:
    parts, negate = [], ""
    for op, arg in items:
        if op is c.NEGATE:
            negate = "^"
        elif op is c.LITERAL:
            parts.append(_char(arg))
        elif op is c.RANGE:
            parts.append(f"{_char(arg[0])}-{_char(arg[1])}")
        else:  # categories (\w, \d, \s) are Unicode-aware in Python, ASCII in RE2
            raise _Unsupported
    if not parts:
        raise _Unsupported
    return f"[{negate}{''.join(parts)}]"


_CHECK_LOCK = threading.Lock()
_CHECK = duckdb.connect()


@lru_cache(maxsize=4096)
def to_re2(pattern: str, flags: int, *, anchored: bool) -> str | None:
    """`pattern` as an RE2 pattern with the same matches (`anchored`: `re.match`, else `re.search`),
    or None when no exact translation exists."""
    if not isinstance(pattern, str):
        return None
    try:
        parsed = parser.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError):
        return None
    if parsed.state.flags & ~_ALLOWED_FLAGS:
        return None  # IGNORECASE (Unicode case folding differs), MULTILINE, DOTALL, ASCII, LOCALE
    try:
        body = _emit(list(parsed), top_level=True)
    except (_Unsupported, RecursionError):
        return None
    translated = "^" + _group(body) if anchored else body
    compiled = re.compile(pattern, flags)
    python = [bool((compiled.match if anchored else compiled.search)(p)) for p in _PROBES]
    with _CHECK_LOCK:
        try:  # RE2 has limits of its own (program size): refuse what it refuses
            duckdb_says = _CHECK.execute(
                "SELECT list(regexp_matches(p, ?) ORDER BY i) FROM "
                "(SELECT unnest(?) AS p, unnest(range(len(?))) AS i)",
                [translated, _PROBES, _PROBES],
            ).fetchone()[0]
        except duckdb.Error:
            return None
    # Defence in depth: DuckDB rewrites some constant patterns before RE2 sees them. A translation
    # that disagrees with Python on any probe is not used.
    return translated if list(duckdb_says) == python else None


# Strings a translation must decide as Python does, column values of the kind DuckDB's optimizer or
# RE2's ASCII classes get wrong: empty, newlines at the end and inside, non-ASCII, digits, NUL.
_PROBES = [
    "",
    "a",
    "nan",
    "abc",
    "xa",
    "a\n",
    "a\n\n",
    "\na",
    "José",
    "é\u0301",
    "12",
    "٣",
    "a b",
    "\x00",
    "Ab",
    "ß",
]
