"""Reading triple files safely: gzip unpacked as a stream under one size cap (the same for
the CLI and the app's uploads), lines decoded one at a time, names free of control
characters. Nothing here holds a whole file in memory: a refused file costs a few MB.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from demix_core.errors import DatasetError

# Unpacked bytes a split may have. FB15k-237's train split, the largest bundled, is 18 MB;
# a compressed file may stand for at most this much text, so a "zip bomb" is refused after
# reading (and discarding) this many bytes, never after holding or writing them.
MAX_UNPACKED = 256 * 2**20
CHUNK = 1 << 20
MAX_LINE = 1 << 16  # bytes a line may have: names are short, and a line is held whole
GZIP_MAGIC = b"\x1f\x8b"
# C0/C1 controls (NUL, ESC, DEL, ...) and the Unicode line/paragraph separators; the tab is
# the column separator and never reaches a name.
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
COLUMNS = ("head", "relation", "tail")


def _open(source: str | Path | BinaryIO) -> BinaryIO:
    """A binary stream of `source`'s unpacked bytes (a path, or an open binary file)."""
    raw = open(source, "rb") if isinstance(source, (str, os.PathLike)) else source
    magic = raw.read(2)
    raw.seek(0)
    return gzip.GzipFile(fileobj=raw, mode="rb") if magic == GZIP_MAGIC else raw


def _raw_lines(stream: BinaryIO, name: str, cap: int) -> Iterator[bytes]:
    """The lines of `stream` (without their newline), read in 1 MB chunks: far fewer calls
    than `readline`, and never more than a chunk plus one line held."""
    total, rest = 0, b""
    while chunk := stream.read(CHUNK):
        total += len(chunk)
        if total > cap:
            raise DatasetError(f"{name}: unpacks to more than {cap >> 20} MB, the limit")
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_LINE:
            raise DatasetError(f"{name}: a line is longer than {MAX_LINE >> 10} KB")
        yield from lines
    if rest:
        yield rest


def iter_lines(
    source: str | Path | BinaryIO, name: str, cap: int | None = None
) -> Iterator[tuple[int, str]]:
    """(line number, text) of each line, decoded as UTF-8 line by line; DatasetError as
    soon as the unpacked bytes pass `cap` (default `MAX_UNPACKED`), a line is longer than
    `MAX_LINE` or the gzip stream is damaged."""
    cap = MAX_UNPACKED if cap is None else cap
    with _reading(source, name) as stream:
        for number, raw in enumerate(_raw_lines(stream, name, cap), start=1):
            if len(raw) > MAX_LINE:
                raise DatasetError(f"{name}:{number}: line longer than {MAX_LINE >> 10} KB")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetError(f"{name}:{number}: not UTF-8 text ({exc.reason})") from None
            yield number, text.removesuffix("\r")


@contextlib.contextmanager
def _reading(source: str | Path | BinaryIO, name: str):
    """`source` opened for reading: a bad gzip stream is a DatasetError naming `name`; a
    path is closed afterwards, a caller's stream rewound for the next pass."""
    stream = _open(source)
    try:
        yield stream
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{name}: not a readable gzip file ({exc})") from None
    finally:
        if isinstance(source, (str, os.PathLike)):
            stream.close()
        else:
            source.seek(0)


def unpacked_size(source: str | Path | BinaryIO, name: str, cap: int | None = None) -> int:
    """Bytes of `source` once unpacked, counted in 1 MB chunks and thrown away: a gzip bomb
    is refused at the cap in about a second, before any per-line work."""
    cap = MAX_UNPACKED if cap is None else cap
    total = 0
    with _reading(source, name) as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
            if total > cap:
                raise DatasetError(f"{name}: unpacks to more than {cap >> 20} MB, the limit")
    return total


def check_split(source: str | Path | BinaryIO, name: str) -> int:
    """Read the whole split, keeping nothing, and return its number of triples: a file that
    is too big, not UTF-8, or has a bad line anywhere is refused in a few MB of memory,
    before anything is built from it or written."""
    unpacked_size(source, name)
    count = 0
    for number, text in iter_lines(source, name):
        count += split_triple(text, name, number) is not None
    if not count:
        raise DatasetError(f"{name}: empty split (no triples)")
    return count


def split_triple(text: str, name: str, number: int) -> tuple[str, str, str] | None:
    """`head<TAB>relation<TAB>tail` -> its three names (None for a blank line); errors
    name the file, the line and the column."""
    if not text.strip():
        return None
    parts = text.split("\t")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise DatasetError(
            f"{name}:{number}: expected 3 tab-separated columns "
            f"(head, relation, tail), found {len(parts)}"
        )
    bad = CONTROL.search(text)
    if bad:
        column = COLUMNS[text[: bad.start()].count("\t")]
        raise DatasetError(
            f"{name}:{number}: the {column} name contains the control character "
            f"U+{ord(bad.group()):04X}; names may not contain control characters"
        )
    return parts[0].strip(), parts[1].strip(), parts[2].strip()


def iter_triples(path: str | Path) -> Iterator[tuple[str, str, str]]:
    """The triples of a `.txt`/`.txt.gz` file, checked whole first, then streamed."""
    name = str(path)
    check_split(path, name)
    for _, text in iter_lines(path, name):
        if text.strip():  # every line passed `split_triple` above: only split it here
            h, r, t = text.split("\t")
            yield h.strip(), r.strip(), t.strip()


def copy_unpacked(source: BinaryIO, dest: Path, name: str) -> str:
    """Write `source` (plain or gzip) unpacked to `dest`, checking every line as a triple on
    the way; returns the sha256 of the text. The file is checked whole before anything is
    written, and a refused file leaves no `dest` behind."""
    check_split(source, name)
    digest, tmp = hashlib.sha256(), dest.with_name(f".{dest.name}.tmp")
    try:
        with open(tmp, "wb") as out:
            for _, text in iter_lines(source, name):
                line = (text + "\n").encode("utf-8")
                digest.update(line)
                out.write(line)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return digest.hexdigest()


def parse_fields(spec: str, defaults: dict, label: str) -> dict:
    """`key=value,key=value` -> `defaults` updated, each value cast to its default's type
    (float for a None default); DatasetError naming `label` and the field otherwise."""
    out = dict(defaults)
    for item in filter(None, (s.strip() for s in spec.split(","))):
        key, _, value = item.partition("=")
        if key not in defaults:
            known = ", ".join(defaults)
            raise DatasetError(f"{label}: unknown field {key!r} (known: {known})")
        kind = float if defaults[key] is None else type(defaults[key])
        try:
            out[key] = kind(value)
        except ValueError:
            raise DatasetError(f"{label}: field {key!r} needs a number, got {value!r}") from None
    return out
