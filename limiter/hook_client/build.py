"""Builds the one file the server serves: bundle_head.py with the client package and the server's pure
modules embedded as source text. Reproducible: the same sources give the same bytes (sorted, no dates).

    python limiter/hook_client/build.py          # writes limiter/hook_client/governor_hook.py (make install)
    python limiter/hook_client/build.py --check  # exits 1 when that file is stale against its sources

Standard library only, and no Django: `make install` runs it before anything else is set up.
"""

import argparse
import ast
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIMITER = HERE.parent
HEAD = HERE / "bundle_head.py"
OUTPUT = HERE / "governor_hook.py"
CLIENT_PACKAGE = LIMITER / "client"
# The server's own modules the client decides with: included as they are, never copied by hand.
SERVER_MODULES = ("engine", "families", "messages", "windows")
TOP_DOC = '"""The server\'s pure rule modules and the hook client package, bundled into one file."""\n'
MARKER = "SOURCES: dict = {}  # @@SOURCES@@"


class BuildError(Exception):
    pass


def sources() -> dict[str, str]:
    """Module key (dotted, relative to the bundle's top package) → source text."""
    found = {"": TOP_DOC}
    for name in SERVER_MODULES:
        found[name] = (LIMITER / f"{name}.py").read_text(encoding="utf-8")
    for path in sorted(CLIENT_PACKAGE.glob("*.py")):
        key = "client" if path.stem == "__init__" else f"client.{path.stem}"
        found[key] = path.read_text(encoding="utf-8")
    for key, text in found.items():
        _check_portable(key, text)
    return dict(sorted(found.items()))


def _check_portable(key: str, text: str) -> None:
    """What runs on developer machines imports only the standard library and its bundle siblings."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            root = node.module.split(".")[0]
        elif isinstance(node, ast.Import):
            root = node.names[0].name.split(".")[0]
        else:
            continue
        if root in ("limiter", "django", "rest_framework", "config") or (
            root not in sys.stdlib_module_names and root != "__future__"
        ):
            raise BuildError(f"{key or 'top'}: imports {root!r}; the client bundles only the stdlib")


def _literal(text: str) -> str:
    """A readable raw triple-quoted literal where the text allows it, else repr."""
    if "'''" not in text and not text.endswith("\\") and "\r" not in text:
        return "r'''" + text + "'''"
    return repr(text)


def render() -> bytes:
    head = HEAD.read_text(encoding="utf-8")
    if head.count(MARKER) != 1:
        raise BuildError(f"{HEAD.name} must contain {MARKER!r} once")
    entries = "".join(f"    {key!r}: {_literal(text)},\n" for key, text in sources().items())
    body = head.replace(MARKER, "SOURCES = {\n" + entries + "}")
    compile(body, str(OUTPUT), "exec", dont_inherit=True)
    return body.encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the built file is stale")
    args = parser.parse_args(argv)
    data = render()
    current = OUTPUT.read_bytes() if OUTPUT.exists() else b""
    if args.check:
        if current != data:
            print(f"{OUTPUT} is stale: run python limiter/hook_client/build.py", file=sys.stderr)
            return 1
        return 0
    if current != data:
        OUTPUT.write_bytes(data)
        print(f"wrote {OUTPUT.relative_to(LIMITER.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
