"""A sweep's run folder as untrusted input: validated status files, confined paths, one writer.

A results folder may have been copied, edited or damaged since it was written, so nothing read
from it is trusted:

* ``status.json`` is read through :func:`read_status`, which checks its types, its records
  (:func:`~bioplast.training.records_problem`, as a checkpoint's are) and a SHA-256
  digest of its contents that :func:`write_status` adds.  A file that fails any check describes no
  finished run: the caller re-runs the job (the reason goes to the run's log).
* A file named inside a status (a lab run's figure) is a plain file name in the run folder, never
  a path: :func:`inside` refuses anything else.
* :func:`locked` holds an exclusive lock on the folder while a process trains in it, so two
  processes (a resumed sweep and an orphaned worker, two sweeps on one folder) never write the same
  run at once.  The operating system releases the lock when its holder dies.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path

from bioplast.errors import BioplastError
from bioplast.io import atomic_write_json
from bioplast.training import records_problem

STATUS = "status.json"
LOCK = ".lock"


class RunFolderBusy(BioplastError, RuntimeError):
    """Another process is training in this run folder."""


def _digest(status: dict) -> str:
    body = {k: v for k, v in status.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_status(run_dir: Path, status: dict) -> None:
    """Write ``status`` with its digest, atomically."""
    status = {k: v for k, v in status.items() if k != "digest"}
    status["digest"] = _digest(json.loads(json.dumps(status)))  # the digest of what a reader will parse
    atomic_write_json(Path(run_dir) / STATUS, status)


def _valid_lab(lab) -> str | None:
    if not isinstance(lab, dict):
        return f"lab is {type(lab).__name__}, expected a table"
    if not isinstance(lab.get("experiment"), str) or not isinstance(lab.get("rows"), list):
        return "lab lacks its experiment (a name) or rows (a list)"
    for row in lab["rows"]:
        if not isinstance(row, dict) or any(
            not isinstance(v, (str, int, float, bool)) and v is not None for v in row.values()
        ):
            return "a lab row is not a table of plain values"
    figure = lab.get("figure")
    if not isinstance(figure, str) or not _plain_name(figure):
        return f"lab figure {figure!r} is not a plain file name in the run folder"
    return None


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def _problem(status) -> str | None:
    if not isinstance(status, dict):
        return f"it holds {type(status).__name__}, expected a table"
    if status.get("status") not in ("done", "failed"):
        return f"status {status.get('status')!r}, expected 'done' or 'failed'"
    if not isinstance(status.get("error"), str):
        return "its error is not a string"
    if status.get("digest") != _digest(status):
        return "its digest does not match its contents (edited or damaged)"
    problem = records_problem(status.get("records"))
    if problem is None and status.get("lab") is not None:
        problem = _valid_lab(status["lab"])
    return problem


def read_status(run_dir: Path) -> tuple[dict | None, str]:
    """``(status, "")`` for a valid finished status in ``run_dir``; ``(None, why)`` when there is
    none (``why`` is ``""`` when the file does not exist, else what is wrong with it)."""
    path = Path(run_dir) / STATUS
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, ""
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return None, f"{STATUS} cannot be read: {exc}"
    problem = _problem(status)
    return (None, f"{STATUS} is not a valid status: {problem}") if problem else (status, "")


def inside(run_dir: Path, name: str) -> Path:
    """``run_dir / name`` for a plain file name that exists there as a regular file.

    :raises BioplastError: ``name`` is a path (separators, ``..``), a link out of the folder, or
        not a file."""
    run_dir = Path(run_dir)
    if not isinstance(name, str) or not _plain_name(name):
        raise BioplastError(f"{name!r} is not a plain file name inside {str(run_dir)!r}")
    path = run_dir / name
    if path.is_symlink() or not path.is_file() or path.resolve().parent != run_dir.resolve():
        raise BioplastError(f"{name!r} is not a file inside {str(run_dir)!r}")
    return path


@contextlib.contextmanager
def locked(run_dir: Path):
    """Hold ``run_dir``'s lock for the block; :class:`RunFolderBusy` if another process holds it."""
    path = Path(run_dir) / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if sys.platform != "win32":  # Windows has no advisory locks: one sweep per folder is the user's duty
            import fcntl

            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunFolderBusy(f"run folder {str(run_dir)!r} is in use by another process") from None
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
