"""The files `docker build` would send as its context, computed from .dockerignore as Docker does.

Docker's rules (moby/patternmatcher): one pattern per line, `#` comments, surrounding `/` and `./` dropped and
the path cleaned; `*` and `?` never cross a `/`, `**` spans any number of directories; a path is excluded when
the last pattern matching it, or one of its parent directories, is not a `!` exception.
"""

import os
import posixpath
import re
from pathlib import Path


def _regex(pattern: str) -> re.Pattern:
    out, i = "^", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # "**/" is zero or more whole directories
                i += 1
                out += "(.*/)?"
            else:
                out += ".*"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "[":
            end = pattern.index("]", i)
            out += "[" + pattern[i + 1 : end].replace("!", "^", 1) + "]"
            i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(char)
        i += 1
    return re.compile(out + "$")


Rules = list[tuple[bool, str, re.Pattern]]


def read_patterns(dockerignore: Path) -> Rules:
    rules = []
    for line in dockerignore.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip()).lstrip("/")
        rules.append((exception, pattern, _regex(pattern)))
    return rules


def is_excluded(path: str, rules: Rules) -> bool:
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]  # parents first, the path itself last
    excluded = False
    for exception, _, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not exception
    return excluded


def build_context(root: Path) -> list[str]:
    """Every file under `root` that Docker would send, as paths relative to it."""
    rules = read_patterns(root / ".dockerignore")
    sent = []
    for directory, subdirs, files in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        subdirs[:] = [d for d in subdirs if not _skippable(prefix + d, rules)]
        sent += [prefix + name for name in files if not is_excluded(prefix + name, rules)]
    return sorted(sent)


def _skippable(directory: str, rules: Rules) -> bool:
    # Docker still walks an excluded directory when an exception could re-include something inside it.
    reopened = any(exc and (text.startswith(directory + "/") or "*" in text) for exc, text, _ in rules)
    return is_excluded(directory, rules) and not reopened
