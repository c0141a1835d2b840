"""One environment-variable prefix, one page: every ``BOB_`` name in the sources is in docs/cli.md, and the
code reads no variable of another prefix."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"\bBOB_[A-Z0-9_]+\b")
SKIP = {".venv", ".git", "build", "dist", "results", "figures"}


def _sources() -> dict[Path, str]:
    """Python text of every module and notebook of the tree (a notebook's code cells joined)."""
    sources = {}
    for path in sorted(ROOT.rglob("*.py")) + sorted(ROOT.rglob("*.ipynb")):
        if SKIP & set(path.relative_to(ROOT).parts[:-1]) or ".egg-info" in str(path.parent):
            continue
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text())["cells"]
            sources[path] = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        else:
            sources[path] = path.read_text()
    return sources


def _documented() -> set[str]:
    table = (ROOT / "docs" / "cli.md").read_text().split("## Environment variables", 1)[1]
    return set(re.findall(r"^\| `(BOB_[A-Z0-9_]+)` \|", table, flags=re.MULTILINE))


def _read_variables(source: str, path: Path) -> set[str]:
    """Names passed to ``os.environ.get``, ``os.getenv``, ``os.environ[...]`` and ``... in os.environ``,
    as literals or as module-level string constants; anything else fails, since it could not be checked."""
    tree = ast.parse(source)
    constants = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
                 and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                 for target in node.targets if isinstance(target, ast.Name)}

    def is_environ(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ"

    keys: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if (node.func.attr == "get" and is_environ(node.func.value)) or node.func.attr == "getenv":
                keys.append(node.args[0])
        elif isinstance(node, ast.Subscript) and is_environ(node.value) and isinstance(node.ctx, ast.Load):
            keys.append(node.slice)
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            keys.append(node.left)
    names = set()
    for key in keys:
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
        elif isinstance(key, ast.Name) and key.id in constants:
            names.add(constants[key.id])
        else:
            raise AssertionError(f"{path.relative_to(ROOT)}:{key.lineno}: read an environment variable by a "
                                 "string literal or a module-level constant, so this test can check its name")
    return names


def test_every_bob_variable_in_the_sources_is_documented() -> None:
    used = {name: path for path, text in _sources().items() for name in NAME.findall(text)}
    missing = {name: str(path.relative_to(ROOT)) for name, path in used.items() if name not in _documented()}
    assert not missing, f"add these to the table in docs/cli.md: {missing}"


def test_every_documented_variable_is_still_used() -> None:
    used = {name for text in _sources().values() for name in NAME.findall(text)}
    assert _documented() - used == set(), "docs/cli.md lists variables no source mentions"


def test_the_code_reads_only_bob_variables() -> None:
    read = {name: path for path, text in _sources().items() for name in _read_variables(text, path)}
    assert "BOB_TABULAR_DATA" in read  # the scan sees reads at all
    other = {name: str(path.relative_to(ROOT)) for name, path in read.items() if not name.startswith("BOB_")}
    assert not other, f"environment variables must start with BOB_ (and be listed in docs/cli.md): {other}"
