"""The volume guard: how far a product's row count may fall from one publish to the next.

A broken source often shows as an empty or shrunken frame that passes every column check. By default a
publish of 0 rows over a non-empty product is refused; a product may allow empty publishes, or refuse any
drop larger than a fraction of the previous count.
"""

from __future__ import annotations

from dataclasses import dataclass

from dagmesh.core.errors import ProductDefinitionError


@dataclass(frozen=True)
class Volume:
    """`max_drop`: the largest allowed fall, as a fraction of the previous row count (0.5 = half);
    None allows any fall except to zero. `allow_empty`: a publish of 0 rows may replace rows."""

    max_drop: float | None = None
    allow_empty: bool = False

    def __post_init__(self) -> None:
        if self.max_drop is not None and not 0 <= self.max_drop <= 1:
            raise ProductDefinitionError(
                f"Volume(max_drop={self.max_drop!r}): a fraction between 0 and 1"
            )

    def refusal(self, previous: int | None, rows: int) -> str | None:
        """Why `rows` may not replace `previous` rows, or None when it may."""
        if not previous:
            return None
        if rows == 0 and not self.allow_empty:
            return (
                f"0 rows would replace {previous:,}; if the product may be empty, declare "
                "volume=Volume(allow_empty=True)"
            )
        if self.max_drop is not None and rows < previous * (1 - self.max_drop):
            if rows == 0 and self.allow_empty:
                return None
            return (
                f"{rows:,} rows would replace {previous:,}, a drop of {1 - rows / previous:.0%} "
                f"(max_drop={self.max_drop:.0%}); if the drop is expected, raise max_drop"
            )
        return None

    def describe(self) -> str:
        parts = ["empty allowed" if self.allow_empty else "never empty over data"]
        if self.max_drop is not None:
            parts.append(f"drops up to {self.max_drop:.0%}")
        return ", ".join(parts)
