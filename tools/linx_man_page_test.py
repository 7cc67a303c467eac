"""docs/linx.1 names every command, option, flag word and --in form the CLI
accepts, each option in the section of its command.

The accepted words come from the CLI itself (`linx --help`, `linx COMMAND
--help`, see cli_help.py). When a command or option is added, this test
fails, naming it, until the man page documents it: add a `.SS COMMAND`
section or a `.TP` entry (`\\fB\\-\\-option\\fR ...`) under the command's
section (verbs may say "Takes \\fB\\-\\-option\\fR" and describe it under
OPTIONS OF THE VERBS).
"""

import re
import sys
import unittest

import cli_help

LINX = MAN = None


def plain(roff):
    """The roff source with font escapes dropped and \\- made '-'."""
    text = re.sub(r"\\f[BIRP]", "", roff)
    return text.replace("\\-", "-").replace("\\(em", "-")


def sections(text):
    """{".SS name": body} and {".SH name": body} of the man page."""
    out = {}
    name = None
    for line in text.splitlines():
        m = re.match(r"^\.(SH|SS) (.*)$", line)
        if m:
            name = m.group(2).strip().strip('"')
            out[name] = ""
        elif name is not None:
            out[name] += line + "\n"
    return out


def has_word(body, word):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", body) is not None


class ManPageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        with open(MAN, encoding="utf-8") as f:
            cls.text = plain(f.read())
        cls.sections = sections(cls.text)
        cls.commands = cli_help.commands(LINX)

    def test_header_names_linx_1(self):
        self.assertRegex(self.text, r"(?m)^\.TH LINX 1 ")
        for sh in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "EXIT STATUS",
                   "EXAMPLES", "SEE ALSO"):
            self.assertIn(sh, self.sections, "no .SH " + sh)

    def test_every_command_has_a_section_and_a_synopsis_line(self):
        synopsis = self.sections["SYNOPSIS"]
        for cmd in self.commands:
            if cmd == "help":
                self.assertIn("linx --help", self.text)
                continue
            with self.subTest(command=cmd):
                self.assertIn(cmd, self.sections, "no .SS %s section" % cmd)
                self.assertRegex(synopsis, r"linx %s\b" % re.escape(cmd))

    def test_every_option_is_in_its_commands_section(self):
        verb_options = self.sections.get("OPTIONS OF THE VERBS", "")
        for cmd in self.commands:
            if cmd == "help":
                continue
            for opt in sorted(cli_help.options(LINX, cmd)):
                if opt in ("--help", "-h"):
                    continue  # documented once, in DESCRIPTION
                with self.subTest(command=cmd, option=opt):
                    body = self.sections.get(cmd, "")
                    self.assertTrue(has_word(body, opt),
                                    "%s is not in the .SS %s section" % (opt, cmd))
                    # An option a section only names must be described.
                    self.assertTrue(
                        re.search(r"(?m)^" + re.escape(opt) + r"\b", body) or
                        re.search(r"(?m)^" + re.escape(opt) + r"\b", verb_options),
                        "%s has no .TP entry under %s or OPTIONS OF THE VERBS" %
                        (opt, cmd))
        self.assertTrue(has_word(self.sections["DESCRIPTION"], "--help"))
        self.assertTrue(has_word(self.sections["DESCRIPTION"], "-h"))

    def test_every_flag_word_and_in_form_and_backend(self):
        for cmd in self.commands:
            if cmd == "help":
                continue
            for word in cli_help.flag_words(LINX, cmd):
                with self.subTest(command=cmd, flag_word=word):
                    self.assertTrue(has_word(self.text, word))
            for form in cli_help.in_forms(LINX, cmd):
                with self.subTest(command=cmd, in_form=form):
                    self.assertIn(form, self.sections["OPTIONS OF THE VERBS"])
            for backend in cli_help.backends(LINX, cmd):
                with self.subTest(command=cmd, backend=backend):
                    self.assertTrue(has_word(self.sections[cmd], backend))

    def test_exit_statuses(self):
        body = self.sections["EXIT STATUS"]
        for status in ("0", "1", "2"):
            self.assertRegex(body, r"(?m)^\.B %s$" % status)

    def test_the_check_can_fail(self):
        # The word matcher must not find options that are not there.
        self.assertFalse(has_word(self.text, "--no-such-option"))
        self.assertFalse(has_word("--jsonx", "--json"))


if __name__ == "__main__":
    LINX, MAN = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1])
