"""The vendored API reference page (docs/stuut-api/list-calls.txt), read as text."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGE = REPO_ROOT / "docs" / "stuut-api" / "list-calls.txt"


def query_parameter_options(name: str) -> tuple[str, ...]:
    """The "Available options" the page lists for query parameter `name`, in page order."""
    lines = [line.strip() for line in PAGE.read_text().splitlines()]
    start = lines.index("Query Parameters")
    at = lines.index(name, start)
    assert lines[at + 1].startswith("enum<string>"), lines[at + 1]
    assert lines[at + 2] == "Available options:"
    options: list[str] = []
    for line in lines[at + 3 :]:
        options.append(line.removesuffix(","))
        if not line.endswith(","):
            break
    return tuple(options)
