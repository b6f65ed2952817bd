"""Writing to disk so that a reader never sees half a file, short content fingerprints, and reading back
what was written with a one-line message when it is damaged."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .config import PROJECT_ROOT
from .errors import FactCheckError


def short_hash(*chunks: str | bytes) -> str:
    """First 16 hex digits of the SHA-256 of the chunks, fed in order."""
    return short_hash_of(chunks)


def short_hash_of(chunks: Iterable[str | bytes]) -> str:
    """``short_hash`` over a stream of chunks (files, passages) too long to join first."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
    return digest.hexdigest()[:16]


def read_json(path: Path) -> dict | None:
    """A JSON record (manifest, model record, settings); None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def file_sha256(path: Path) -> str:
    """Full SHA-256 of a file, read in blocks (model weights are large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it replaces ``path`` in one rename when the block
    ends without error, and is removed otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


@contextmanager
def atomic_folder(path: Path) -> Iterator[Path]:
    """An empty work folder beside ``path``; when the block ends without error it takes ``path``'s
    place (the old folder is moved aside first, then removed), otherwise it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.building.", dir=path.parent))
    try:
        yield work
        old = path.with_name(f".{path.name}.old")
        if old.exists():
            shutil.rmtree(old)
        if path.exists():
            os.replace(path, old)
        os.replace(work, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def shown_path(path: Path) -> str:
    """A path as a user knows it: relative to the project (``build/verifier.skops``) when inside it."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


@contextmanager
def loading_artefact(path: Path, fix: str) -> Iterator[None]:
    """Run the block that loads a file or folder this project wrote (a model, a record); when its content
    cannot be read, stop with one line naming it and ``fix`` (e.g. "run `factcheck train` to rebuild it").
    Every library's loader complains in its own way (BadZipFile, JSONDecodeError, SafetensorError,
    struct.error, ...), and the fix is the same for all of them, so any error from the content counts."""
    try:
        yield
    except (FactCheckError, MemoryError):
        raise
    except OSError as exc:
        if exc.errno is not None:  # a real I/O problem (permissions, a missing disk), not damaged content
            raise
        _report_damage(path, exc, fix)  # transformers reports a malformed config.json as an OSError
    except Exception as exc:
        _report_damage(path, exc, fix)


def _report_damage(path: Path, exc: Exception, fix: str) -> None:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)  # KeyError quotes its text
    reason = (text.strip().splitlines() or [type(exc).__name__])[0]
    raise FactCheckError(f"{shown_path(path)} is damaged ({reason}); {fix}") from None


def load_skops(path: Path) -> dict:
    """A skops file this project wrote (fitted scikit-learn objects in a dict). Only scikit-learn, numpy and
    scipy types are trusted; anything else is refused. Call inside ``loading_artefact``."""
    from .runtime import torch_hidden

    with torch_hidden():  # skops lists every scikit-learn estimator on import; one of them imports torch
        import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    unexpected = [name for name in untrusted if not name.startswith(("sklearn.", "numpy.", "scipy."))]
    if unexpected:
        raise FactCheckError(f"{path} contains unexpected types ({', '.join(unexpected[:3])}); refusing to load")
    return sio.load(path, trusted=untrusted)


def read_csv_folder(folder: Path, columns: tuple[str, ...], what: str, check=None):
    """Every ``*.csv`` of ``folder`` in name order, as one frame of strings with a ``file`` column; an empty
    frame when there are none. A file that cannot be read or lacks a column stops with one line naming it;
    ``check(frame)`` may return a problem (a string) that does the same."""
    import pandas as pd

    frames = []
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise FactCheckError(f"cannot read {what} file {path}: {exc}".splitlines()[0]) from None
        missing = [column for column in columns if column not in frame.columns]
        if missing:
            raise FactCheckError(f"{what} file {path}: missing column(s) {', '.join(missing)}")
        problem = check(frame) if check is not None else None
        if problem:
            raise FactCheckError(f"{what} file {path}: {problem}")
        frames.append(frame.assign(file=path.name))
    if not frames:
        return pd.DataFrame(columns=[*columns, "file"])
    return pd.concat(frames, ignore_index=True)
