"""The one place the benchmarks write their figures into docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, section: str, begin: str, end: str) -> None:
    """Replace the section between the `begin` and `end` markers, or append it; keep the
    rest of the file."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start_at, end_at = text.find(begin), text.find(end)
    if start_at != -1 and end_at > start_at:
        text = text[:start_at] + section + text[end_at + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
