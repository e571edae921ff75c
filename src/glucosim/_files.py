"""Files written whole or not at all: an interrupted write never leaves a truncated file under its final name."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def write_whole(path: Path, write: Callable[[Path], object]) -> None:
    """``write(temporary)`` beside ``path``, flushed to disk, then renamed onto ``path``.

    The temporary is hidden (``.NAME.partial-XXXXXXXX``) and removed on any failure or interrupt, so ``path`` holds
    either its previous content (or nothing) or the complete new file.
    """
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    try:
        write(partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_text_whole(path: Path, text: str) -> None:
    """``text`` written to ``path`` as UTF-8, whole or not at all (``write_whole``): reports and pages."""
    write_whole(path, lambda partial: Path(partial).write_text(text, encoding="utf-8"))


def save_figure_whole(figure, path: Path, file_format: str, **options) -> None:
    """``figure.savefig`` to ``path``, whole or not at all (``write_whole``).

    The format is given, not read from the name: the temporary's name ends in ``.partial-XXXXXXXX``, which
    matplotlib would take for the format.
    """
    write_whole(path, lambda partial: figure.savefig(partial, format=file_format, **options))
