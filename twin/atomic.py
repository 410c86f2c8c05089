"""The one way this project writes files: never a half file, never a lost previous version.

Every output goes to a temporary file beside its target (same folder, so the rename is atomic), is
flushed to disk (fsync), given the mode the user's umask asks for, and renamed over the target. If
anything fails (an exception, Ctrl-C) the temporary file is removed and the previous file is untouched.
A process killed outright (SIGKILL, power loss) cannot clean up after itself: its temporary file carries
its process id, and the next write to the same target removes it once that process is gone.

>>> from twin.atomic import atomic_path, atomic_write
>>> atomic_write("notes.txt", lambda fh: fh.write("hello"))              # doctest: +SKIP
>>> with atomic_path("plot.png") as tmp:                                  # doctest: +SKIP
...     fig.savefig(tmp)                    # libraries that want a file name write to `tmp`
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from twin.errors import OutputError, TwinError, WriteError

TMP_MARK = ".tmp"
FIGURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".pdf")


@contextmanager
def atomic_path(path: str | os.PathLike, *, keep_name: bool = False) -> Iterator[Path]:
    """A temporary path beside `path` to write to; on leaving the block it is synced, given the umask's mode
    and renamed onto `path`; on failure removed.

    The temporary file has the target's suffix, so writers that go by it pick the format. `keep_name=True`
    gives it the target's exact name, inside a hidden folder beside the target (for tools that record the
    file's own name, such as USD packages); the folder is always removed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path)
        prefix = f".{path.name}.{os.getpid()}."
        if keep_name:
            folder = Path(tempfile.mkdtemp(prefix=prefix, suffix=TMP_MARK, dir=path.parent))
            tmp = folder / path.name
        else:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=TMP_MARK + path.suffix, dir=path.parent)
            os.close(fd)
            tmp = folder = Path(name)
    except OSError as exc:
        raise _write_error(path, exc) from None
    try:
        yield tmp
        _commit(tmp, path)
    except BaseException as exc:
        if isinstance(exc, OSError) and not isinstance(exc, TwinError):
            raise _write_error(path, exc) from exc
        raise
    finally:
        _remove(folder)


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """`atomic_path` with the target's exact file name (in a hidden folder beside it)."""
    with atomic_path(path, keep_name=True) as tmp:
        yield tmp


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], *, binary: bool = False) -> Path:
    """Call `write(fh)` on a file object open on a temporary file, then put it in place (see `atomic_path`)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as fh:
            write(fh)
    return Path(path)


def atomic_copy(source: str | os.PathLike, path: str | os.PathLike) -> Path:
    """Copy a file's bytes to `path` atomically."""
    import shutil

    with atomic_path(path) as tmp:
        shutil.copyfile(source, tmp)
    return Path(path)


def check_figure_path(path: str | os.PathLike) -> Path:
    """A figure file name with a suffix matplotlib writes, else an OutputError saying which to use. Commands
    check it up front: a simulation can run for minutes before its plot is saved."""
    path = Path(path)
    if path.suffix.lower() not in FIGURE_SUFFIXES:
        raise OutputError(f"{path}: cannot save a plot as {path.suffix or 'a file without a suffix'!r}; "
                          f"use one of {', '.join(FIGURE_SUFFIXES)}")
    return path


def check_writable(path: str | os.PathLike) -> Path:
    """Fail now, not after minutes of work, when `path` cannot be written: it must not be a folder, and its
    nearest existing folder must be a folder the user may write in (missing folders below it are created)."""
    path = Path(path)
    if path.is_dir():
        raise WriteError(f"cannot write {path}: it is a folder; give a file name inside it")
    folder = path.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise WriteError(f"cannot write {path}: {folder} is a file, not a folder; choose another folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteError(f"cannot write {path}: the folder {folder} is not writable; choose a folder you can write to")
    return path


def save_figure(fig: Any, path: str | os.PathLike, **options: Any) -> Path:
    """Save a matplotlib figure atomically, in the format its suffix names."""
    path = check_figure_path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lower().lstrip(".").replace("jpg", "jpeg"), **options)
    return path


def remove_stale(path: Path) -> list[Path]:
    """Remove temporary files left beside `path` by writers that were killed (their process is gone)."""
    removed = []
    prefix = f".{path.name}."
    try:
        siblings = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in siblings:
        name = entry.name
        if not (name.startswith(prefix) and TMP_MARK in name[len(prefix):]):
            continue
        pid = name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            _remove(Path(entry.path))
            removed.append(Path(entry.path))
    return removed


def file_mode() -> int:
    """The permission bits a new file gets under the current umask (0o666 less the umask)."""
    return 0o666 & ~_umask()


def _remove(path: Path) -> None:
    """Remove a temporary file or folder if it is still there (after a rename there is nothing left)."""
    if path.is_dir():
        import shutil

        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _commit(tmp: Path, path: Path) -> None:
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, file_mode())
    os.replace(tmp, path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the platform lets a folder be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    """The process umask, read without changing it where /proc allows (changing it races other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _write_error(path: Path, exc: OSError) -> WriteError:
    error = WriteError(f"cannot write {path}: {exc.strerror or exc}; check that the folder exists and is writable, "
                       "and that the disk has space")
    error.errno = exc.errno
    return error


__all__ = ["FIGURE_SUFFIXES", "atomic_copy", "atomic_output", "atomic_path", "atomic_write", "check_figure_path", "check_writable", "file_mode",
           "remove_stale", "save_figure"]
