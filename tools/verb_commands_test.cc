// Tests of the verb parser: argv in, VerbCommand (or help, or usage error)
// out. No syscalls.
#include "tools/verb_commands.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linx::tools {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using Kind = ParsedVerbCommand::Kind;

struct RunCase {
  std::vector<std::string> args;
  Verb verb;
  std::vector<std::string> operands;
  std::vector<std::string> flag_words;
  std::string data;
  bool create;
  std::string in;
};

TEST(ParseVerbCommandTest, AcceptsEveryVerbAndOptionForm) {
  const RunCase kCases[] = {
      // mount: operands, every option in both forms.
      {{"mount", "none", "/mnt/x", "tmpfs"},
       Verb::kMount,
       {"none", "/mnt/x", "tmpfs"},
       {},
       "",
       false,
       "self"},
      {{"mount", "none", "/mnt/x", "tmpfs", "--flags", "nosuid,nodev", "--data",
        "size=1m", "--create"},
       Verb::kMount,
       {"none", "/mnt/x", "tmpfs"},
       {"nosuid", "nodev"},
       "size=1m",
       true,
       "self"},
      {{"mount", "--flags=ro", "none", "--data=mode=0755,size=1m", "/mnt/x",
        "tmpfs", "--in=pid:42"},
       Verb::kMount,
       {"none", "/mnt/x", "tmpfs"},
       {"ro"},
       "mode=0755,size=1m",
       false,
       "pid:42"},
      // --flags repeats and adds up, in order.
      {{"mount", "a", "b", "c", "--flags", "ro", "--flags=nosuid,noexec"},
       Verb::kMount,
       {"a", "b", "c"},
       {"ro", "nosuid", "noexec"},
       "",
       false,
       "self"},
      // "--flags=" and "--data=" are empty values, not missing ones.
      {{"mount", "a", "b", "c", "--flags=", "--data="},
       Verb::kMount,
       {"a", "b", "c"},
       {},
       "",
       false,
       "self"},
      // "--" ends options: operands may start with '-'.
      {{"mount", "--flags", "ro", "--", "-src", "--flags", "-t"},
       Verb::kMount,
       {"-src", "--flags", "-t"},
       {"ro"},
       "",
       false,
       "self"},
      // "-" alone is an operand.
      {{"mount", "-", "/x", "tmpfs"},
       Verb::kMount,
       {"-", "/x", "tmpfs"},
       {},
       "",
       false,
       "self"},
      // Every mount flag word.
      {{"mount", "a", "b", "c", "--flags",
        "ro,nosuid,nodev,noexec,sync,remount,mandlock,dirsync,noatime,"
        "nodiratime,bind,move,rec,silent,private,shared,slave,unbindable,"
        "relatime,strictatime,lazytime"},
       Verb::kMount,
       {"a", "b", "c"},
       {"ro",      "nosuid",   "nodev",      "noexec",   "sync",
        "remount", "mandlock", "dirsync",    "noatime",  "nodiratime",
        "bind",    "move",     "rec",        "silent",   "private",
        "shared",  "slave",    "unbindable", "relatime", "strictatime",
        "lazytime"},
       "",
       false,
       "self"},
      // bind
      {{"bind", "/src", "/dst", "--flags", "rec,ro", "--create", "--in",
        "path:/proc/1/ns/mnt"},
       Verb::kBind,
       {"/src", "/dst"},
       {"rec", "ro"},
       "",
       true,
       "path:/proc/1/ns/mnt"},
      // move
      {{"move", "/a", "/b", "--in", "self"},
       Verb::kMove,
       {"/a", "/b"},
       {},
       "",
       false,
       "self"},
      // remount
      {{"remount", "/x", "--flags", "bind,ro", "--data", "size=2m"},
       Verb::kRemount,
       {"/x"},
       {"bind", "ro"},
       "size=2m",
       false,
       "self"},
      // umount: every umount flag word.
      {{"umount", "/x", "--flags", "force,detach,expire,no_follow"},
       Verb::kUmount,
       {"/x"},
       {"force", "detach", "expire", "no_follow"},
       "",
       false,
       "self"},
      {{"umount", "--flags=detach", "--in=pid:1", "/x"},
       Verb::kUmount,
       {"/x"},
       {"detach"},
       "",
       false,
       "pid:1"},
      // pivot-root
      {{"pivot-root", "/new", "/new/old", "--in", "pid:7"},
       Verb::kPivotRoot,
       {"/new", "/new/old"},
       {},
       "",
       false,
       "pid:7"},
      // version
      {{"version"}, Verb::kVersion, {}, {}, "", false, "self"},
  };
  for (const RunCase& c : kCases) {
    SCOPED_TRACE(::testing::PrintToString(c.args));
    ParsedVerbCommand p = ParseVerbCommand(c.args);
    ASSERT_EQ(p.kind, Kind::kRun) << p.error;
    EXPECT_EQ(p.command.verb, c.verb);
    EXPECT_THAT(p.command.operands, ElementsAreArray(c.operands));
    EXPECT_THAT(p.command.flag_words, ElementsAreArray(c.flag_words));
    EXPECT_EQ(p.command.data, c.data);
    EXPECT_EQ(p.command.create, c.create);
    EXPECT_EQ(p.command.in, c.in);
  }
}

struct ErrorCase {
  std::vector<std::string> args;
  Verb verb;
  std::string error;  // a substring of the one-line reason
};

TEST(ParseVerbCommandTest, RejectsEveryUsageErrorWithAReason) {
  const ErrorCase kCases[] = {
      // Operand counts.
      {{"mount", "none", "/x"},
       Verb::kMount,
       "missing operand: expected SOURCE TARGET FSTYPE"},
      {{"mount", "a", "b", "c", "d"}, Verb::kMount, "extra operand \"d\""},
      {{"bind", "/a"}, Verb::kBind, "missing operand: expected SOURCE TARGET"},
      {{"move", "/a", "/b", "/c"}, Verb::kMove, "extra operand \"/c\""},
      {{"remount"}, Verb::kRemount, "missing operand: expected TARGET"},
      {{"umount"}, Verb::kUmount, "missing operand: expected TARGET"},
      {{"umount", "/a", "/b"}, Verb::kUmount, "extra operand \"/b\""},
      {{"pivot-root", "/new"},
       Verb::kPivotRoot,
       "missing operand: expected NEW_ROOT PUT_OLD"},
      {{"version", "extra"}, Verb::kVersion, "extra operand \"extra\""},
      // Flag words.
      {{"mount", "a", "b", "c", "--flags", "ro,rw"},
       Verb::kMount,
       "unknown mount flag \"rw\""},
      {{"mount", "a", "b", "c", "--flags", "RO"},
       Verb::kMount,
       "unknown mount flag \"RO\""},
      {{"mount", "a", "b", "c", "--flags", "ro,,nosuid"},
       Verb::kMount,
       "empty flag word in --flags \"ro,,nosuid\""},
      {{"mount", "a", "b", "c", "--flags=ro,"},
       Verb::kMount,
       "empty flag word"},
      {{"bind", "/a", "/b", "--flags", "detach"},
       Verb::kBind,
       "unknown mount flag \"detach\""},
      {{"umount", "/a", "--flags", "lazy"},
       Verb::kUmount,
       "unknown umount flag \"lazy\""},
      {{"umount", "/a", "--flags", "ro"},
       Verb::kUmount,
       "unknown umount flag \"ro\""},
      {{"remount", "/a", "--flags", "bogus"},
       Verb::kRemount,
       "unknown mount flag \"bogus\""},
      // Options a verb does not take, and unknown options.
      {{"mount", "a", "b", "c", "--bogus"},
       Verb::kMount,
       "unknown option \"--bogus\""},
      {{"mount", "a", "b", "c", "-o", "ro"},
       Verb::kMount,
       "unknown option \"-o\""},
      {{"move", "/a", "/b", "--flags", "rec"},
       Verb::kMove,
       "unknown option \"--flags\""},
      {{"move", "/a", "/b", "--create"},
       Verb::kMove,
       "unknown option \"--create\""},
      {{"umount", "/a", "--data", "x"},
       Verb::kUmount,
       "unknown option \"--data\""},
      {{"umount", "/a", "--create"},
       Verb::kUmount,
       "unknown option \"--create\""},
      {{"remount", "/a", "--create"},
       Verb::kRemount,
       "unknown option \"--create\""},
      {{"pivot-root", "/n", "/n/o", "--flags", "rec"},
       Verb::kPivotRoot,
       "unknown option \"--flags\""},
      {{"version", "--in", "self"}, Verb::kVersion, "unknown option \"--in\""},
      // Values.
      {{"mount", "a", "b", "c", "--flags"},
       Verb::kMount,
       "--flags needs a value"},
      {{"mount", "a", "b", "c", "--data"},
       Verb::kMount,
       "--data needs a value"},
      {{"umount", "/a", "--in"}, Verb::kUmount, "--in needs a value"},
      {{"mount", "a", "b", "c", "--create=yes"},
       Verb::kMount,
       "--create takes no value"},
      {{"mount", "a", "b", "c", "--data", "x", "--data=y"},
       Verb::kMount,
       "--data given twice"},
      {{"umount", "/a", "--in", "self", "--in=pid:1"},
       Verb::kUmount,
       "--in given twice"},
      // --in syntax.
      {{"umount", "/a", "--in", "pid:"},
       Verb::kUmount,
       "bad --in \"pid:\": expected pid:N with N a positive integer"},
      {{"umount", "/a", "--in", "pid:0"},
       Verb::kUmount,
       "expected pid:N with N a positive integer"},
      {{"umount", "/a", "--in", "pid:-3"},
       Verb::kUmount,
       "expected pid:N with N a positive integer"},
      {{"umount", "/a", "--in", "pid:12x"},
       Verb::kUmount,
       "expected pid:N with N a positive integer"},
      {{"umount", "/a", "--in", "pid:99999999999"},
       Verb::kUmount,
       "expected pid:N with N a positive integer"},
      {{"umount", "/a", "--in", "path:"},
       Verb::kUmount,
       "bad --in \"path:\": empty path"},
      {{"umount", "/a", "--in", "path:proc/1/ns/mnt"},
       Verb::kUmount,
       "path must be absolute"},
      {{"umount", "/a", "--in", "4242"},
       Verb::kUmount,
       "bad --in \"4242\": expected self, pid:N or path:P"},
      {{"umount", "/a", "--in", "Self"},
       Verb::kUmount,
       "expected self, pid:N or path:P"},
      // Non-printable bytes are escaped in messages.
      {{"umount", "/a", "--in", "x\ty"}, Verb::kUmount, "bad --in \"x\\ty\""},
  };
  for (const ErrorCase& c : kCases) {
    SCOPED_TRACE(::testing::PrintToString(c.args));
    ParsedVerbCommand p = ParseVerbCommand(c.args);
    ASSERT_EQ(p.kind, Kind::kUsageError);
    EXPECT_EQ(p.command.verb, c.verb);
    EXPECT_THAT(p.error, HasSubstr(c.error));
    EXPECT_EQ(p.error.find('\n'), std::string::npos) << "one line";
  }
}

TEST(ParseVerbCommandTest, HelpWinsOverOtherProblems) {
  const std::vector<std::string> kCases[] = {
      {"mount", "--help"},
      {"mount", "-h"},
      {"bind", "--flags", "bogus", "--help"},
      {"umount", "-h", "too", "many", "operands"},
      {"pivot-root", "--help"},
      {"version", "--help"},
      {"remount", "--nope", "-h"},
      {"move", "--help"},
  };
  for (const auto& args : kCases) {
    SCOPED_TRACE(::testing::PrintToString(args));
    ParsedVerbCommand p = ParseVerbCommand(args);
    EXPECT_EQ(p.kind, Kind::kHelp);
  }
}

TEST(ParseVerbCommandTest, RecursiveIsAnUmountOption) {
  ParsedVerbCommand p = ParseVerbCommand({"umount", "--recursive", "/x"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.error;
  EXPECT_TRUE(p.command.recursive);
  EXPECT_THAT(p.command.operands, ElementsAreArray({"/x"}));
  EXPECT_FALSE(ParseVerbCommand({"umount", "/x"}).command.recursive);

  p = ParseVerbCommand({"umount", "/x", "--recursive=yes"});
  EXPECT_EQ(p.kind, Kind::kUsageError);
  EXPECT_THAT(p.error, HasSubstr("--recursive takes no value"));
  p = ParseVerbCommand({"mount", "a", "/b", "tmpfs", "--recursive"});
  EXPECT_EQ(p.kind, Kind::kUsageError);
  EXPECT_THAT(p.error, HasSubstr("unknown option \"--recursive\""));
}

TEST(ParseVerbCommandTest, HelpAfterDoubleDashIsAnOperand) {
  ParsedVerbCommand p = ParseVerbCommand({"umount", "--", "--help"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.error;
  EXPECT_THAT(p.command.operands, ElementsAreArray({"--help"}));
}

TEST(ParseVerbCommandTest, NonVerbsAreLeftToTheDispatcher) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {}, {"list"}, {"mnt"}, {"Mount"}, {"pivot_root"}, {"--help"}}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    EXPECT_EQ(ParseVerbCommand(args).kind, Kind::kUnknownVerb);
  }
}

TEST(ParseVerbCommandTest, RootMkdirAndSourceInRoot) {
  ParsedVerbCommand p = ParseVerbCommand({"bind", "/dev/null", "/dev/null",
                                          "--root", "/run/c1/rootfs", "--mkdir",
                                          "--create", "--source-in-root"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.error;
  EXPECT_EQ(p.command.root, "/run/c1/rootfs");
  EXPECT_TRUE(p.command.mkdir);
  EXPECT_TRUE(p.command.source_in_root);
  p = ParseVerbCommand({"umount", "proc", "--root=/r"});
  ASSERT_EQ(p.kind, Kind::kRun) << p.error;
  EXPECT_EQ(p.command.root, "/r");
  const std::vector<std::string> kBad[] = {
      {"bind", "a", "b", "--source-in-root"},    // needs --root
      {"pivot-root", "a", "b", "--root", "/r"},  // not for pivot_root
      {"move", "a", "b", "--mkdir"},             // only mount and bind
      {"umount", "a", "--root", "/r", "--root", "/s"},
      {"mount", "a", "b", "c", "--root="},
      {"bind", "a", "b", "--idmap", "pid:x"},
      {"bind", "a", "b", "--idmap", "userns:rel"},
      {"mount", "a", "b", "c", "--idmap", "pid:1"},  // binds only
      {"remount", "a", "--beneath"},
      {"mount", "a", "b", "c", "--userns"},  // needs --in
      {"pivot-root", "a", "b", "--in", "pid:1", "--userns"},
  };
  for (const auto& args : kBad) {
    SCOPED_TRACE(::testing::PrintToString(args));
    EXPECT_EQ(ParseVerbCommand(args).kind, Kind::kUsageError);
  }
}

TEST(VerbUsageTest, NamesEveryOptionTheVerbTakes) {
  EXPECT_EQ(VerbUsage(Verb::kMount),
            "usage: linx mount SOURCE TARGET FSTYPE [--flags W1,W2,...] "
            "[--data STR] [--create] [--mkdir] [--root DIR] [--beneath] "
            "[--in self|pid:N|path:P] [--userns]");
  EXPECT_EQ(VerbUsage(Verb::kBind),
            "usage: linx bind SOURCE TARGET [--flags W1,W2,...] [--data STR] "
            "[--create] [--mkdir] [--root DIR] [--source-in-root] [--beneath] "
            "[--idmap pid:N|userns:PATH] [--in self|pid:N|path:P] [--userns]");
  EXPECT_EQ(VerbUsage(Verb::kMove),
            "usage: linx move SOURCE TARGET [--root DIR] "
            "[--in self|pid:N|path:P] [--userns]");
  EXPECT_EQ(VerbUsage(Verb::kRemount),
            "usage: linx remount TARGET [--flags W1,W2,...] [--data STR] "
            "[--recursive] [--root DIR] [--in self|pid:N|path:P] [--userns]");
  EXPECT_EQ(VerbUsage(Verb::kUmount),
            "usage: linx umount TARGET [--flags detach,...] [--recursive] "
            "[--root DIR] [--in self|pid:N|path:P] [--userns]");
  EXPECT_EQ(VerbUsage(Verb::kPivotRoot),
            "usage: linx pivot-root NEW_ROOT PUT_OLD "
            "[--in self|pid:N|path:P]");
  EXPECT_EQ(VerbUsage(Verb::kVersion), "usage: linx version");
}

TEST(VerbHelpTest, ListsTheFlagWordsOfTheVerb) {
  std::string mount = VerbHelp(Verb::kMount);
  EXPECT_THAT(mount, HasSubstr(VerbUsage(Verb::kMount)));
  for (const char* w : {"ro", "nosuid", "unbindable", "strictatime", "lazytime",
                        "--data", "--create", "--in", "exit"}) {
    EXPECT_THAT(mount, HasSubstr(w));
  }
  std::string umount = VerbHelp(Verb::kUmount);
  EXPECT_THAT(umount, HasSubstr("force detach expire no_follow"));
  EXPECT_THAT(umount, ::testing::Not(HasSubstr("nosuid")));
  EXPECT_THAT(VerbHelp(Verb::kVersion), ::testing::Not(HasSubstr("--in")));
}

}  // namespace
}  // namespace linx::tools
