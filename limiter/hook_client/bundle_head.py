#!/usr/bin/env python3
"""Claude Governor hook client: the gate Claude Code runs before every prompt, and its installer.

BUILT FILE, do not edit: `python limiter/hook_client/build.py` writes it from the client package
(limiter/client/) and the server's own rule engine (limiter/windows.py, engine.py, families.py,
messages.py), so an offline decision is the server's decision by construction.

Standard library only, Python 3.9+ on Linux, macOS and Windows. Claude Code starts it as
`<python> -I -S governor_hook.py hook <Event>` with the hook JSON on stdin; a terminal user runs
`setup`, `status`, `sync`, `doctor`, `uninstall`, `watchdog` or `statusline`. See docs/hook-client.md.

Below, every module is kept as its source text, readable as written. Each is compiled once into
`__pycache__/` beside this file (by `setup`, as root, for an installed copy; by Python's own rule,
only where the directory is writable, otherwise) and loaded from there like any imported module.
"""

import sys

PACKAGE = "governor_client"
PACKAGES = ("", "client")
SOURCES: dict = {}  # @@SOURCES@@
# Where the bytecode of each module goes; the one of this file is Python's own governor_hook.<tag>.pyc.
CACHE_PREFIX = "governor_hook."
HASH_KEY = 0x676F76  # any constant: it keys the source hash recorded in our bytecode files


class Bundle:
    """A finder and loader (PEP 451) for the modules in SOURCES, under the package name PACKAGE."""

    def __init__(self, path, sources):
        import os

        self.path = os.path.abspath(path)
        self.sources = sources
        self.cache_dir = os.path.join(os.path.dirname(self.path), "__pycache__")

    def key(self, fullname):
        if fullname == PACKAGE:
            return ""
        if fullname.startswith(PACKAGE + "."):
            key = fullname[len(PACKAGE) + 1 :]
            return key if key in self.sources else None
        return None

    def origin(self, key):
        return "{}/{}.py".format(self.path, (key or "__init__").replace(".", "/"))

    def find_spec(self, fullname, path=None, target=None):
        key = self.key(fullname)
        if key is None:
            return None
        from _frozen_importlib import ModuleSpec

        # A loader by protocol (create_module, exec_module), without importing importlib.abc.
        return ModuleSpec(fullname, self, origin=self.origin(key), is_package=key in PACKAGES)  # type: ignore[arg-type]

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.code(self.key(module.__name__)), module.__dict__)  # noqa: S102 - our own embedded source

    def get_source(self, fullname):
        """For tracebacks (linecache asks the module's loader)."""
        key = self.key(fullname)
        return None if key is None else self.sources[key]

    def cache_file(self, key):
        import os

        tag = sys.implementation.cache_tag
        return os.path.join(self.cache_dir, f"{CACHE_PREFIX}{key or '__init__'}.{tag}.pyc")

    def header(self, key):
        """A hash-based bytecode header (PEP 552): magic number, flags, the source's hash."""
        import _imp
        from _frozen_importlib_external import MAGIC_NUMBER

        return MAGIC_NUMBER + b"\x03\x00\x00\x00" + _imp.source_hash(HASH_KEY, self.sources[key].encode())

    def code(self, key):
        """The module's code from its bytecode file when that matches this source, else compiled now."""
        import marshal

        header = self.header(key)
        try:
            with open(self.cache_file(key), "rb") as handle:
                data = handle.read()
            if data[:16] == header:
                return marshal.loads(data[16:])
        except (OSError, ValueError, EOFError, TypeError):
            pass
        code = compile(self.sources[key], self.origin(key), "exec", dont_inherit=True)
        if not sys.dont_write_bytecode:
            self.write(key, header + marshal.dumps(code))
        return code

    def write(self, key, data):
        import os

        target = self.cache_file(key)
        tmp = f"{target}.{os.getpid()}.tmp"
        try:
            os.makedirs(self.cache_dir, mode=0o755, exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o644)
            os.replace(tmp, target)
        except OSError:
            # An unwritable directory (an installed copy run by the developer): compiled in memory only.
            try:
                os.remove(tmp)
            except OSError:
                pass
            return False
        return True

    def precompile(self):
        """Bytecode for every module, for the interpreter running this (setup and the watchdog, as root).
        Returns the files written."""
        import marshal

        written = []
        for key in sorted(self.sources):
            code = self.code(key)
            if not self.write(key, self.header(key) + marshal.dumps(code)):
                raise OSError(f"cannot write {self.cache_file(key)}")
            written.append(self.cache_file(key))
        return written


def activate():
    """Registers the bundle once; the package's modules then import each other as usual."""
    top = sys.modules.get(PACKAGE)
    if top is not None:
        return top.__bundle__
    bundle = Bundle(__file__, SOURCES)
    sys.meta_path.insert(0, bundle)
    top = __import__(PACKAGE)
    vars(top)["__bundle__"] = bundle
    return bundle


def main(argv):
    activate()
    from governor_client.client.cli import main as run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
