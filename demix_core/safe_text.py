"""Showing text that came from a user (run names, entity names, file names, error messages
that quote them) without it being read as markup.

Streamlit renders markdown (an image `![](url)` makes the browser fetch the URL) and Plotly
renders a subset of HTML in trace names, text and hover labels (`<a href>`, `<b>`). One
helper per target, used wherever such a name is displayed, keeps data from becoming markup.
"""

from __future__ import annotations

import html
import re

# The characters that open markup inside a line of markdown: emphasis, code, links and
# images (`[`, `]`, `!`), autolinks and HTML (`<`, `>`), headings, tables, strikethrough,
# `$` math and Streamlit's `:color[...]` directives (dead without their `[`). Dots, dashes
# and parentheses are left alone: they only make markup at the start of a line or after
# a `]`, and an escaped path or error message stays readable.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~$!])")


def md(text: object) -> str:
    """`text` as literal markdown: every special character backslash-escaped, line breaks
    flattened (a name spans one line where it is shown)."""
    flat = " ".join(str(text).splitlines())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def code(text: object) -> str:
    """`text` as a markdown code span (a path or an id shown verbatim): the fence is one
    backtick longer than any run of backticks inside, so nothing can close it early, and
    nothing inside a code span is markup."""
    flat = " ".join(str(text).splitlines())
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def plotly(text: object) -> str:
    """`text` as literal Plotly text: `<`, `>` and `&` as entities, which Plotly shows as
    the characters instead of reading tags."""
    return html.escape(str(text), quote=False)


def plotly_all(values) -> list[str]:
    """`plotly` of every item (trace `text` arrays, tick labels)."""
    return [plotly(v) for v in values]
