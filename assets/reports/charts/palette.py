"""One colour per provider on every chart of every page, and separate palettes for everything else.

Providers take colours in the config's order (providers.yaml), so a provider keeps its colour across
charts and pages of one build. Countries, error classes and status-page markers use palettes that share
no colour with the providers, so a country line is never mistaken for a provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import altair as alt

PROVIDER_RANGE = ("#1f77b4", "#e6820e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
COUNTRY_RANGE = ("#264653", "#2a9d8f", "#8ab17d", "#e9c46a", "#f4a261", "#6d597a", "#b5838d", "#5e6472")
CLASS_COLORS = {
    "5xx": "#7f1d1d",
    "529 overloaded": "#dc2626",
    "429 (our quota)": "#fca5a5",
    "timeouts": "#6b7280",
}


class ProviderColors:
    """provider display name -> colour, in config order; names the config lacks follow, sorted."""

    def __init__(self, names: Sequence[str] = ()):
        self.names: list[str] = list(dict.fromkeys(names))

    def scale(self, present: Iterable[str] = ()) -> alt.Scale:
        """The explicit scale: the whole provider domain (not only the names present), fixed range."""
        extra = sorted(set(present) - set(self.names))
        domain = [*self.names, *extra]
        return alt.Scale(
            domain=domain, range=[PROVIDER_RANGE[i % len(PROVIDER_RANGE)] for i in range(len(domain))]
        )

    def color(self, present: Iterable[str] = (), field: str = "provider", **kwargs) -> alt.Color:
        return alt.Color(f"{field}:N", scale=self.scale(present), title="provider", **kwargs)


def country_color(field: str = "country", **kwargs) -> alt.Color:
    return alt.Color(f"{field}:N", scale=alt.Scale(range=list(COUNTRY_RANGE)), **kwargs)


def class_color(field: str = "class") -> alt.Color:
    return alt.Color(
        f"{field}:N",
        scale=alt.Scale(domain=list(CLASS_COLORS), range=list(CLASS_COLORS.values())),
        title="error class",
    )


def _provider_values(spec: dict) -> set[str]:
    values: set[str] = set()
    for rows in (spec.get("datasets") or {}).values():
        values |= {str(r["provider"]) for r in rows if isinstance(r, dict) and r.get("provider") is not None}
    return values


def _fix_encodings(node, scale: dict) -> None:
    if isinstance(node, dict):
        for channel, enc in (node.get("encoding") or {}).items():
            if (
                channel in ("color", "fill", "stroke")
                and isinstance(enc, dict)
                and enc.get("field") == "provider"
            ):
                enc["scale"] = scale
        for value in node.values():
            _fix_encodings(value, scale)
    elif isinstance(node, list):
        for value in node:
            _fix_encodings(value, scale)


def with_provider_scale(spec: dict, colors: ProviderColors) -> dict:
    """The spec with the explicit provider scale on every colour/fill/stroke channel over `provider`."""
    scale = colors.scale(_provider_values(spec)).to_dict()
    _fix_encodings(spec, scale)
    return spec
