"""What the linx CLI itself says it accepts, read from its --help output.

The man page and bash-completion tests compare against this, never against
a hand-written list: a new command, option or flag word shows up in `--help`
and then fails those tests until docs/linx.1 and tools/linx-completion.bash
name it too.
"""

import re
import subprocess

_OPTION = re.compile(r"(?<![\w-])(--[a-z][a-z-]*|-h)(?![\w-])")


def run_help(linx, *args):
    r = subprocess.run([linx, *args, "--help"], capture_output=True, text=True,
                       check=False)
    if r.returncode != 0:
        raise AssertionError("%s --help: exit %d: %s" % (" ".join(args),
                                                         r.returncode, r.stderr))
    return r.stdout


def commands(linx):
    """The commands `linx --help` lists ("list", ..., "pivot-root", ...)."""
    out = run_help(linx)
    found = []
    for line in out.splitlines():
        m = re.match(r"^  ([a-z][a-z-]*)(?: |$)", line)
        if m and m.group(1) not in found:
            found.append(m.group(1))
    if len(found) < 5:
        raise AssertionError("too few commands in linx --help:\n" + out)
    return found


def options(linx, command):
    """Every option in `linx COMMAND --help`: each word of the usage lines
    (up to the first blank line) and the first words of each row of the
    option table ("  --json   ...", "  -h, --help ..."). Prose such as
    "like findmnt --target" is not an option of linx."""
    lines = run_help(linx, command).splitlines()
    opts = set()
    usage = True
    for line in lines:
        if not line.strip():
            usage = False
        if usage:
            opts.update(_OPTION.findall(line))
            continue
        m = re.match(r"^\s{2,}((?:-h, )?--[a-z][a-z-]*|-h)(?=\s|$)", line)
        if m:
            opts.update(_OPTION.findall(m.group(1)))
    opts.discard("--")
    return opts


def flag_words(linx, command):
    """The flag words `linx COMMAND --help` lists under --flags (or [])."""
    lines = run_help(linx, command).splitlines()
    words = []
    for i, line in enumerate(lines):
        if "flag words" not in line:
            continue
        for cont in lines[i + 1:]:
            if not cont.startswith("        ") or cont.strip().startswith("-"):
                break
            words.extend(cont.split())
    return words


def backends(linx, command):
    """The values of --backend in the usage line, e.g. ["text", ...]."""
    m = re.search(r"--backend ([a-z|]+)", run_help(linx, command))
    return m.group(1).split("|") if m else []


def in_forms(linx, command):
    """The --in forms in the usage line: ["self", "pid:", "path:"]."""
    m = re.search(r"--in ([a-z|:A-Z]+)", run_help(linx, command))
    if not m:
        return []
    return [re.sub(r"[A-Z]+$", "", f) for f in m.group(1).split("|")]
