"""The Jinja2 environment of the report pages: templates/ beside this module, autoescaped HTML.

Every `{{ value }}` in a template is HTML-escaped by the environment (text from the marts: incident titles,
bodies, app and component names), so no report escapes by hand. Chart specs go into the page's JSON
script through `tojson_script`, which writes `<`, `>`, `&`, U+2028 and U+2029 as `\\u003c` ..., so a
title containing `</script>` or `<!--` cannot end or confuse the script block.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from assets.reports.formats import default_format

_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_clean(value: Any) -> Any:
    """Make a value JSON-safe: NaN/inf -> null (JSON.parse refuses NaN), tuples -> lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_clean(v) for v in value]
    return value


def script_json(value: Any) -> str:
    """JSON that is safe inside an HTML <script> element.

    `<`, `>`, `&`, U+2028 and U+2029 only ever occur inside JSON strings, where the \\uXXXX escape means
    the same character, so the parsed value is unchanged while `</script>`, `<!--` and `]]>` can no
    longer appear in the page source.
    """
    text = json.dumps(json_clean(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_UNSAFE[m.group(0)], text)


def tojson_script(value: Any) -> Markup:
    """Template filter: `script_json`, marked safe for the <script> block it is written into."""
    return Markup(script_json(value))


def is_numeric(value: Any) -> bool:
    """Template test: a number (not a flag), right-aligned in tables."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def cache_dir() -> Path:
    """Where the pages keep what they build once and reuse in later runs (the Vega bundle, the compiled
    templates): $XDG_CACHE_HOME (default ~/.cache)/incidents/."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "incidents"


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Jinja's compiled templates kept between runs (compiling the pages' templates took ~0.1 s a run).
    Jinja checks each against its template's source; a cache that cannot be read or written costs the compile,
    nothing else."""

    def __init__(self) -> None:
        super().__init__(str(cache_dir() / "templates"))

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            pass

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            os.makedirs(self.directory, exist_ok=True)
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("assets.reports", "templates"),
        bytecode_cache=_CompiledTemplates(),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["tojson_script"] = tojson_script
    env.filters["cell"] = default_format
    env.tests["numeric"] = is_numeric
    return env


ENV = _environment()
# (term, meaning) for the few terms the pages keep; data/glossary.json, shown at the foot of every page.
GLOSSARY: list[tuple[str, str]] = [
    (item["term"], item["meaning"])
    for item in json.loads(
        resources.files("assets.reports").joinpath("data/glossary.json").read_text("utf-8")
    )
]
