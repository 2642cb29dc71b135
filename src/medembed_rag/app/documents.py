"""Reading the files ``medembed-rag index`` is given: .txt, .md and .jsonl, checked before anything is written."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path


class CliError(Exception):
    """A user-facing failure with an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
JSONL_SUFFIXES = {".jsonl"}


def _read_text_file(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise CliError(f"{path} is not a text file (it contains NUL bytes); pass .txt, .md or .jsonl files")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{path} is not UTF-8 text (byte {exc.start}); convert it to UTF-8 first") from None


def collect_documents(paths: Sequence[str]) -> tuple[list[str], list[str], list[dict]]:
    """Reads every .txt/.md/.jsonl file under ``paths`` into (texts, ids, metadatas); raises before any write."""
    files: list[tuple[Path, Path]] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise CliError(f"{path} does not exist")
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES)
            files.extend((p, path) for p in found)
        elif path.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES:
            files.append((path, path.parent))
        else:
            raise CliError(f"{path}: unsupported file type {path.suffix or '(none)'}; use .txt, .md or .jsonl")
    if not files:
        raise CliError(f"no .txt, .md or .jsonl files found in {', '.join(paths)}")
    texts, ids, metas = [], [], []
    for path, root in files:
        rel = path.relative_to(root).as_posix() if path != root else path.name
        content = _read_text_file(path)
        if path.suffix.lower() in JSONL_SUFFIXES:
            for n, line in enumerate(content.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    text = row.pop("text")
                except (ValueError, KeyError, AttributeError):
                    raise CliError(f"{path}:{n} is not a JSON object with a \"text\" field") from None
                doc_id = str(row.pop("id", row.pop("_id", f"{rel}:{n}")))
                title = row.pop("title", "")
                texts.append(f"{title}\n{text}" if title else text)
                ids.append(doc_id)
                metas.append({"source": rel, **({"title": title} if title else {}), **row})
        else:
            if not content.strip():
                continue
            texts.append(content)
            ids.append(rel)
            metas.append({"source": rel})
    if not texts:
        raise CliError("every file found is empty")
    if len(set(ids)) != len(ids):
        raise CliError("two documents share an id; give each JSONL row a unique \"id\"")
    return texts, ids, metas
