"""Checks that a committed notebook is one clean top-to-bottom run (used by tests and by `make test`).

nbval does not compare a cell whose committed copy was never executed, so a notebook committed with
cleared outputs would pass it as a mere smoke test. These checks close that hole.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ABSOLUTE_PATH = re.compile(r"(?<![\w.])(/(?:home|root|work|tmp|Users|private|var/folders)/[\w.-]+|[A-Za-z]:\\\\Users)")
MAX_TEXT_OUTPUT = 20_000  # characters of text in one output
MAX_IMAGE_OUTPUT = 400_000  # base64 characters of one PNG (about 300 KB)
MAX_NOTEBOOK = 3_000_000  # bytes of the whole .ipynb


def problems(path: Path) -> list[str]:
    """Everything that is wrong with the committed notebook at ``path`` (empty when it is clean)."""
    found: list[str] = []
    raw = path.read_text(encoding="utf-8")
    if len(raw.encode()) > MAX_NOTEBOOK:
        found.append(f"the notebook is {len(raw.encode()):,} bytes (limit {MAX_NOTEBOOK:,}): outputs too large")
    notebook = json.loads(raw)
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    counts = [cell.get("execution_count") for cell in code_cells]
    if counts != list(range(1, len(code_cells) + 1)):
        found.append(
            f"execution counts are {counts}, expected 1..{len(code_cells)} in order: "
            "re-run it top to bottom in a fresh kernel with `make notebooks`"
        )
    for number, cell in enumerate(code_cells, start=1):
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "error":
                error = f"{output.get('ename')}: {output.get('evalue')}"
                found.append(f"code cell {number} holds an error output ({error})")
            texts = []
            if kind == "stream":
                texts.append("".join(output.get("text", "")))
            for mime, value in output.get("data", {}).items():
                value = "".join(value) if isinstance(value, list) else str(value)
                if mime.startswith("image/"):
                    if len(value) > MAX_IMAGE_OUTPUT:
                        found.append(f"code cell {number}: a {mime} output of {len(value):,} characters is too large")
                else:
                    texts.append(value)
            for text in texts:
                if len(text) > MAX_TEXT_OUTPUT:
                    found.append(f"code cell {number}: a text output of {len(text):,} characters is too large")
                match = ABSOLUTE_PATH.search(text)
                if match:
                    found.append(f"code cell {number}: output shows a path of the machine: {match.group(0)!r}")
            if kind == "stream" and output.get("name") == "stderr":
                found.append(f"code cell {number} writes to stderr (a warning?): {''.join(output['text'])[:200]!r}")
    return found
