"""tools/linx-completion.bash completes what the CLI accepts.

Runs the completion function in bash with COMP_WORDS set as bash would, and
compares with the commands, options, flag words, --in forms and --backend
values that the CLI's own --help lists (cli_help.py). A new option fails
this test until _linx_options in the script names it.
"""

import os
import subprocess
import sys
import unittest

import cli_help

LINX = SCRIPT = None


def complete(*words):
    """COMPREPLY for the command line `linx WORDS...` (last word = cursor)."""
    line = ["linx", *words]
    script = (
        'set -u; . "$1"; shift; COMP_WORDS=("$@"); '
        'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _linx; '
        'printf "%s\\n" "${COMPREPLY[@]}"')
    r = subprocess.run(["bash", "-c", script, "bash", SCRIPT, *line],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise AssertionError("bash: %s" % r.stderr)
    return [w for w in r.stdout.splitlines() if w]


class CompletionTest(unittest.TestCase):

    def test_commands(self):
        want = set(cli_help.commands(LINX))
        self.assertEqual(set(complete("")) - {"--help"}, want)
        self.assertEqual(complete("pi"), ["pivot-root"])

    def test_every_commands_options(self):
        for cmd in cli_help.commands(LINX):
            if cmd == "help":
                continue
            with self.subTest(command=cmd):
                self.assertEqual(set(complete(cmd, "-")) - {"-h"},
                                 cli_help.options(LINX, cmd) - {"-h"})

    def test_flag_words(self):
        for cmd in ("mount", "bind", "remount", "umount"):
            with self.subTest(command=cmd):
                want = cli_help.flag_words(LINX, cmd)
                self.assertTrue(want)
                self.assertEqual(sorted(complete(cmd, "--flags", "")), sorted(want))
        # The last word of a comma-separated list, keeping what came before.
        self.assertEqual(complete("bind", "--flags", "rec,r"),
                         ["rec,ro", "rec,remount", "rec,rec", "rec,relatime"])
        self.assertEqual(complete("umount", "--flags=det"), ["detach"])

    def test_in_forms(self):
        want = cli_help.in_forms(LINX, "mount")
        self.assertEqual(sorted(complete("mount", "--in", "")), sorted(want))
        pid = str(os.getpid())
        self.assertIn("pid:" + pid, complete("umount", "--in", "pid:" + pid))
        self.assertIn("path:/proc", complete("bind", "--in", "path:/pro"))

    def test_backends(self):
        for cmd in ("list", "find", "watch"):
            with self.subTest(command=cmd):
                self.assertEqual(sorted(complete(cmd, "--backend", "")),
                                 sorted(cli_help.backends(LINX, cmd)))


if __name__ == "__main__":
    LINX, SCRIPT = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1])
