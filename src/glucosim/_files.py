"""Files written whole or not at all: an interrupted write never leaves a truncated file under its final name."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path

TEMPORARY_MARK = ".partial-"
"""In the name of every temporary file ``write_whole`` and its callers make: ``.NAME.partial-HOST-PID-HEX``."""


def temporary_beside(path: Path) -> Path:
    """A hidden temporary name beside ``path``, unique across processes and nodes (the tasks of a job array may
    share a pid and a results folder on a shared file system)."""
    path = Path(path)
    return path.with_name(f".{path.name}{TEMPORARY_MARK}{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex}")


def is_temporary(name: str) -> bool:
    """Whether a file name is one of ``temporary_beside``'s (a write that has not finished, or was killed)."""
    return name.startswith(".") and TEMPORARY_MARK in name


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a process we may not signal counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_dead_temporaries(directory: Path) -> list[str]:
    """Remove the temporaries (``temporary_beside``) in ``directory`` left by a killed writer of this machine.

    A SIGKILL leaves a writer no time to remove its temporary. Only a temporary whose host is this machine and whose
    process is gone is removed: a live writer's, or another node's on a shared file system, is left alone. Returns
    the names removed.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    removed = []
    for name in os.listdir(directory):
        if is_temporary(name) and left_by_dead_writer(name):
            (directory / name).unlink(missing_ok=True)
            removed.append(name)
    return removed


def left_by_dead_writer(name: str) -> bool:
    """Whether a temporary's name (``temporary_beside``'s) says its writer was a process of this machine that is gone:
    a live writer's, or another node's on a shared file system (whose PID says nothing here), is not."""
    owner, _, _ = name.split(TEMPORARY_MARK, 1)[1].rpartition("-")  # HOST-PID, the hex after the last dash
    owner_host, _, pid = owner.rpartition("-")
    return owner_host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def write_whole(path: Path, write: Callable[[Path], object]) -> None:
    """``write(temporary)`` beside ``path``, flushed to disk, then renamed onto ``path``.

    The temporary (``temporary_beside``) is removed on any failure or interrupt, so ``path`` holds either its
    previous content (or nothing) or the complete new file. The sweep store's files, the calibration cache's
    entries, reports and figures go through here; a run's result folder is written whole as a folder
    (``glucosim.io.results``), and a sweep's consolidated results file by its own streaming writer.
    """
    path = Path(path)
    partial = temporary_beside(path)
    try:
        write(partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_bytes_whole(path: Path, data: bytes) -> None:
    """``data`` written to ``path``, whole or not at all (``write_whole``)."""
    write_whole(path, lambda partial: Path(partial).write_bytes(data))


def write_bytes_new(path: Path, data: bytes) -> bool:
    """``data`` written whole to ``path`` unless ``path`` exists by then; True when written.

    For a file that another process may write at the same time with better knowledge (a running sweep's chunk
    record, which a reader adopting the chunk must not replace): the temporary is linked onto ``path``, which fails
    when it exists (the sweep store needs hard links anyway: its manifest is created the same way).
    """
    path = Path(path)
    partial = temporary_beside(path)
    try:
        partial.write_bytes(data)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        try:
            os.link(partial, path)
        except FileExistsError:
            return False
        return True
    finally:
        partial.unlink(missing_ok=True)


def write_text_whole(path: Path, text: str) -> None:
    """``text`` written to ``path`` as UTF-8, whole or not at all (``write_whole``): reports and pages."""
    write_whole(path, lambda partial: Path(partial).write_text(text, encoding="utf-8"))


def save_figure_whole(figure, path: Path, file_format: str, **options) -> None:
    """``figure.savefig`` to ``path``, whole or not at all (``write_whole``).

    The format is given, not read from the name: the temporary's name (``temporary_beside``) ends in a random hex
    suffix, which matplotlib would take for the format.
    """
    write_whole(path, lambda partial: figure.savefig(partial, format=file_format, **options))
