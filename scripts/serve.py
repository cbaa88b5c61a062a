"""Start the app exactly as `streamlit run app.py ARGS` does, and meanwhile, in a background
thread, import what the pages import (torch, the demix_core modules, pandas and Arrow) and
load the example runs' datasets, so the first page a visitor opens on a freshly started
server waits less for them. The server starts listening without waiting for the warm-up (a
little later than it would alone: the imports share the interpreter), and a page that
arrives mid-way waits only for the imports it needs. What it saves and costs:
docs/performance.md ("The browser").

    .venv/bin/python scripts/serve.py [streamlit run options, e.g. --server.port 8502]

`make app` and the browser tests start the app this way. Streamlit itself is untouched: this
calls its command-line entry point, as the `streamlit` command does.
"""

from __future__ import annotations

import ast
import importlib
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
# Imported on a page's first run but named by no page: torch (under every lens), Arrow
# (Streamlit hands each table to the browser through it).
FIRST = ("torch", "pandas", "pyarrow")


def page_imports(root: Path = ROOT) -> list[str]:
    """The `demix_core` modules named by an import anywhere in app.py and the page files (at
    the top or inside a function), in order of first mention. `from m import x` gives `m.x`
    (`x` may be a module) before `m`. The `pages` helpers themselves are left to the first
    run: their Streamlit caches are made for the running server, not before it exists."""
    names: list[str] = []
    for path in [root / "app.py", *sorted((root / "pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            else:
                continue
            names += [n for n in found if n.split(".")[0] == "demix_core" and n not in names]
    return names


def _import(name: str) -> None:
    """Import `name`, or its parent when `name` is an attribute (`demix_core.safe_text.md`).
    A module that fails here is left for its page to import and report."""
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        if "." in name and name.rsplit(".", 1)[0] not in sys.modules:
            _import(name.rsplit(".", 1)[0])
    except Exception:  # noqa: BLE001 - the page that needs it shows the error
        pass


def load_example_datasets() -> None:
    """Load the built-in datasets of the shipped examples into `load_dataset`'s per-process
    cache (the lens pages and the lesson open them on their first run)."""
    from demix_core.data import BUILTIN, load_dataset
    from demix_core.errors import DemixError
    from demix_core.examples import ExampleShelf

    for record in ExampleShelf().records():
        if record["dataset"] in BUILTIN:
            try:
                load_dataset(record["dataset"])
            except (DemixError, OSError):
                pass  # the page shows the same error when it opens this example


def warm() -> None:
    for name in (*FIRST, *page_imports()):
        _import(name)
    try:
        load_example_datasets()
    except Exception:  # noqa: BLE001 - a warm-up is only ever a head start
        pass


def main(argv: list[str]) -> None:
    sys.path[0] = str(ROOT)  # as `streamlit run app.py` has it, not this folder
    from streamlit.web import cli  # first: warming beside it would slow the server's start

    threading.Thread(target=warm, name="demix-warm-up", daemon=True).start()

    cli.main(args=["run", str(APP), *argv], prog_name="streamlit")


if __name__ == "__main__":
    main(sys.argv[1:])
