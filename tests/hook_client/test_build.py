"""The served client is built from the package and the server's own pure modules, reproducibly."""

import subprocess
import sys

import pytest

from limiter.hook_client import build

from .conftest import CLIENT, oldest_python


def test_fails_when_the_served_client_is_stale_against_its_sources():
    assert CLIENT.read_bytes() == build.render(), "run: python limiter/hook_client/build.py"


def test_same_sources_build_the_same_bytes():
    assert build.render() == build.render()
    done = subprocess.run(
        [sys.executable, str(build.HERE / "build.py"), "--check"],
        cwd=build.LIMITER.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", build.SERVER_MODULES)
def test_bundles_the_servers_own_module_not_a_copy(name):
    assert build.sources()[name] == (build.LIMITER / f"{name}.py").read_text(encoding="utf-8")


def test_refuses_to_bundle_a_module_that_needs_more_than_the_standard_library():
    with pytest.raises(build.BuildError, match="django"):
        build._check_portable("client.bad", "from django.conf import settings\n")
    with pytest.raises(build.BuildError, match="limiter"):
        build._check_portable("client.bad", "from limiter import engine\n")
    build._check_portable("client.good", "from .. import engine\nimport json\n")


def test_the_oldest_supported_python_imports_every_bundled_module(tmp_path):
    """Each module loads on 3.9, and its bytecode lands beside the file it was loaded from."""
    program = tmp_path / "governor_hook.py"
    program.write_bytes(CLIENT.read_bytes())
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import governor_hook as g; b = g.activate();"
        "import importlib; [importlib.import_module(g.PACKAGE + ('.' + k if k else '')) for k in b.sources];"
        "print(len(b.sources))"
    )
    done = subprocess.run(
        [oldest_python(), "-I", "-S", "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    cached = list((tmp_path / "__pycache__").glob("governor_hook.*.pyc"))
    # One per bundled module, and Python's own for governor_hook.py itself.
    assert len(cached) == int(done.stdout) + 1 > 20
