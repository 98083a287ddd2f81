"""The Jinja2 environment of the report: templates under ``report/templates/``, every ``{{ value }}``
escaped on output, so no value from the warehouse can reach the page unescaped by forgetting a call.

Escaping is done by ``finalize`` with the standard library's ``html.escape`` (``&quot;`` / ``&#x27;``
for quotes, as the page always had); values already marked safe (macro output, a rendered chart) pass
through, and ``autoescape`` stays on as the second guard. Templates are written one element per line
for reading: the ``_Compact`` extension removes each line break and the indentation after it when a
``.j2`` template is loaded, so the page comes out as one compact line as before. Text that needs a
space keeps it inside a line.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import jinja2
from jinja2.ext import Extension
from markupsafe import Markup

_LINE_BREAK = re.compile(r"\n[ \t]*")


class _Compact(Extension):
    """Join the lines of a ``.j2`` template (see the module docstring); other files are left as they are."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _LINE_BREAK.sub("", source) if name and name.endswith(".j2") else source


def escape_html(value: Any) -> Markup:
    """What every ``{{ }}`` prints: safe markup as it is, anything else through ``html.escape``."""
    if isinstance(value, Markup) or hasattr(value, "__html__"):
        return Markup(value)
    return Markup(html.escape(str(value), quote=True))


def environment(globals_: dict[str, Callable[..., Any] | Any] | None = None) -> jinja2.Environment:
    """The report's environment, loading from the installed package (the templates are package data)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dagster_project.report", "templates"),
        autoescape=True,
        finalize=escape_html,
        undefined=jinja2.StrictUndefined,   # a misspelt field fails the render instead of printing nothing
        extensions=[_Compact],
        keep_trailing_newline=True,        # report.css is included byte for byte
    )
    env.globals.update(globals_ or {})
    return env
