"""The README's code blocks, each with what the package test does with it.

Every fenced block of README.md follows a comment that says how the test uses it, so a
block added without one fails the suite instead of drifting from the code:

- ``sh``: shell commands, run in order in the new project (``pip install`` of the
  package becomes an install of the wheel under test);
- ``append PATH`` / ``file PATH``: added to the end of, or written as, a project file;
- ``serve``: how the project is served (the test serves it that way, and with daphne);
- ``shell``: Python run with ``manage.py shell -c`` while the project is served;
- ``skip: reason``: not run here, for the reason given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
MARK = re.compile(r"<!-- readme-test: (sh|append|file|serve|shell|skip)(?::? (.*?))? -->\n\Z")
ACTIONS_WITH_TARGET = {"append", "file", "skip"}


@dataclass(frozen=True)
class Block:
    action: str
    target: str | None
    language: str
    body: str
    line: int


def blocks(text: str | None = None) -> list[Block]:
    """Every fenced block with its action; ``ValueError`` names a block without one."""
    text = README.read_text() if text is None else text
    found = []
    for fence in FENCE.finditer(text):
        line = text.count("\n", 0, fence.start()) + 1
        mark = MARK.search(text, 0, fence.start())
        if mark is None:
            raise ValueError(f"README.md:{line}: a code block without a readme-test comment")
        action, target = mark.group(1), mark.group(2)
        if (target is None) == (action in ACTIONS_WITH_TARGET):
            raise ValueError(f"README.md:{line}: readme-test {action} with a wrong target")
        found.append(Block(action, target, fence.group(1), fence.group(2), line))
    return found
