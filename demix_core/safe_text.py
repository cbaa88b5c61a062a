"""Showing text that came from a user (run names, entity names, file names, error messages
that quote them) without it being read as markup.

Streamlit renders markdown (an image `![](url)` makes the browser fetch the URL) and Plotly
renders a subset of HTML in trace names, text and hover labels (`<a href>`, `<b>`). One
helper per target, used wherever such a name is displayed, keeps data from becoming markup.
"""

from __future__ import annotations

import html
import re

# Every character markdown (CommonMark + GitHub tables/strikethrough + Streamlit's
# `:color[...]` / `:material/icon:` directives and `$` math) gives a meaning to.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&])")


def md(text: object) -> str:
    """`text` as literal markdown: every special character backslash-escaped, line breaks
    flattened (a name spans one line where it is shown)."""
    flat = " ".join(str(text).splitlines())
    return _MD_SPECIAL.sub(r"\\\1", flat)


def plotly(text: object) -> str:
    """`text` as literal Plotly text: `<`, `>` and `&` as entities, which Plotly shows as
    the characters instead of reading tags."""
    return html.escape(str(text), quote=False)


def plotly_all(values) -> list[str]:
    """`plotly` of every item (trace `text` arrays, tick labels)."""
    return [plotly(v) for v in values]
