"""Output files and streams: the format a file's extension names, whole-file writes, and text a
console can show.

One rule for every face: ``kbquery CASE -o out.svg`` and ``Explanation.write("out.svg")`` choose
the format the same way. Light on purpose (no networkx): the CLI imports it on every run.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

# The extension of a file -> the format written into it.
SUFFIXES = {".txt": "text", ".json": "json", ".dot": "dot", ".svg": "svg", ".png": "png", ".html": "html"}

# What a console that cannot show the tree's characters gets instead (cp1252 or ASCII, say).
ASCII = str.maketrans({"✓": "+", "✗": "x", "•": "*", "·": ".", "├": "|", "└": "`", "─": "-", "│": "|", "→": "->"})


def named_by(path: str | Path) -> str | None:
    """The format a path's extension names, or None."""
    return SUFFIXES.get(Path(path).suffix.lower())


def choose(path: str | Path, fmt: str | None = None, default: str | None = None) -> str:
    """The format to write a file in: `fmt` when given, else the one its extension names, else `default`.

    A `fmt` that contradicts the extension is a ValueError (an .svg holding text is silently wrong),
    and so is a path whose extension names no format when neither `fmt` nor `default` is given."""
    named = named_by(path)
    if fmt and named and fmt != named:
        raise ValueError(f"format {fmt!r} contradicts the extension of {path}, which names {named!r}")
    chosen = fmt or named or default
    if chosen is None:
        raise ValueError(f"cannot tell the format of {path} from its extension; "
                         f"use one of {', '.join(SUFFIXES)} or name the format")
    return chosen


def folder_problem(path: str | Path) -> str | None:
    """Why a file cannot be written into its folder (absent, or not a folder), or None."""
    folder = Path(path).parent
    if folder.is_dir():
        return None
    return f"{folder} is not a folder" if folder.exists() else f"the folder {folder} does not exist"


def write_whole(path: str | Path, data: bytes) -> None:
    """Write a file all at once: into a temporary file beside it, then renamed over it, so that an
    interruption or a failure never leaves a half-written file."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(temporary, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def for_console(text: str, encoding: str | None) -> str:
    """The text as a console with this encoding can show it: unchanged when it can, else with the
    tree's characters in ASCII and anything else still unencodable escaped (never an exception)."""
    encoding = encoding or "utf-8"
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        pass
    try:
        return text.translate(ASCII).encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:  # an encoding Python does not know: ASCII is safe on any console
        return text.translate(ASCII).encode("ascii", "backslashreplace").decode("ascii")
