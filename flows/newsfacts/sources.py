"""Where a run reads from: a folder or a glob, and never outside the configured source folders.

A deployment's ``source`` parameter comes from whoever fills the Prefect form, so it is checked
against ``NEWSFACTS_SOURCE_ROOTS`` after resolving ``..`` and symbolic links. A command-line run is
the operator's own choice and may name any folder.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path

GLOB_CHARS = set("*?[")


class SourceRefused(ValueError):
    """The source parameter names something outside the allowed folders, or nothing at all."""


def split_glob(spec: str) -> tuple[Path, str | None]:
    """``/in/2026-*/*.html`` → (``/in``, ``2026-*/*.html``); a plain folder has no pattern."""
    parts = Path(spec).parts
    for i, part in enumerate(parts):
        if GLOB_CHARS & set(part):
            return Path(*parts[:i]) if i else Path("."), str(Path(*parts[i:]))
    return Path(spec), None


def resolve(spec: str | Path, roots: tuple[Path, ...] | None = None) -> tuple[Path, str | None]:
    """The folder to list and the optional glob pattern (relative to it) for a source spec.

    With ``roots`` the folder must be one of them or lie inside one; relative specs are taken
    relative to the first root.
    """
    base, pattern = split_glob(str(spec))
    if roots:
        if not base.is_absolute():
            base = roots[0] / base
        real = base.resolve()
        allowed = [r.resolve() for r in roots]
        if not any(real == r or r in real.parents for r in allowed):
            raise SourceRefused(f"source {spec!r} is outside the allowed source folders "
                                f"({', '.join(str(r) for r in roots)}); set NEWSFACTS_SOURCE_ROOTS to allow it")
        if pattern and ".." in Path(pattern).parts:
            raise SourceRefused(f"source pattern {pattern!r} may not climb out of {base} with '..'")
        base = real
    if not base.is_dir():
        raise SourceRefused(f"source folder {base} does not exist or is not a folder")
    return base, pattern


def matches(uri: str, base: Path, pattern: str | None) -> bool:
    """Whether a listed file falls under the glob (path relative to the base folder)."""
    if pattern is None:
        return True
    try:
        rel = str(Path(uri).relative_to(base))
    except ValueError:
        return False
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(Path(rel).name, pattern)
