// `linx apply`'s command line and PrepareApply: no syscalls.
#include "tools/apply_command.h"

#include <string>
#include <variant>
#include <vector>

#include "base/op_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linx::tools {
namespace {

using ::testing::HasSubstr;

TEST(ParseApplyCommandTest, ReadsEveryOption) {
  ParsedApplyCommand p = ParseApplyCommand(
      {"apply", "--dry-run", "c.json", "--root=/r", "--in", "pid:7", "--json"});
  ASSERT_EQ(p.kind, ParsedApplyCommand::Kind::kRun) << p.error;
  EXPECT_EQ(p.command.file, "c.json");
  EXPECT_EQ(p.command.root, "/r");
  EXPECT_EQ(p.command.in, "pid:7");
  EXPECT_TRUE(p.command.dry_run);
  EXPECT_TRUE(p.command.json);

  p = ParseApplyCommand({"apply", "--", "-weird.json"});
  ASSERT_EQ(p.kind, ParsedApplyCommand::Kind::kRun) << p.error;
  EXPECT_EQ(p.command.file, "-weird.json");
  EXPECT_EQ(p.command.in, "self");
  EXPECT_FALSE(p.command.dry_run);

  EXPECT_EQ(ParseApplyCommand({"apply", "-h"}).kind,
            ParsedApplyCommand::Kind::kHelp);
}

TEST(ParseApplyCommandTest, RefusesBadCommandLines) {
  struct Case {
    std::vector<std::string> args;
    const char* error;
  } cases[] = {
      {{"apply"}, "missing operand FILE"},
      {{"apply", "a", "b"}, "extra operand \"b\""},
      {{"apply", ""}, "FILE is empty"},
      {{"apply", "a", "--root"}, "--root needs a value"},
      {{"apply", "a", "--root="}, "--root needs a directory"},
      {{"apply", "a", "--root", "/x", "--root", "/y"}, "--root given twice"},
      {{"apply", "a", "--in", "self", "--in", "self"}, "--in given twice"},
      {{"apply", "a", "--in", "pid:x"}, "bad --in \"pid:x\""},
      {{"apply", "a", "--dry-run=1"}, "--dry-run takes no value"},
      {{"apply", "a", "--flags", "ro"}, "unknown option \"--flags\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error);
    ParsedApplyCommand p = ParseApplyCommand(c.args);
    EXPECT_EQ(p.kind, ParsedApplyCommand::Kind::kUsageError);
    EXPECT_THAT(p.error, HasSubstr(c.error));
  }
}

TEST(PrepareApplyTest, RootAndSourcesAreRelativeToTheFileOrCwd) {
  ApplyCommand cmd;
  cmd.file = "bundle/config.json";
  absl::StatusOr<ApplyInputs> in =
      PrepareApply(cmd,
                   R"({"root": {"path": "rootfs"}, "mounts": [
           {"destination": "/d", "type": "bind", "source": "data",
            "options": ["rbind"]}]})",
                   "/work");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->root_dir, "/work/bundle/rootfs");
  ASSERT_EQ(in->steps.size(), 1u);
  EXPECT_EQ(std::get<BindCommand>(in->steps[0].main).source,
            "/work/bundle/data");
  EXPECT_EQ(std::get<BindCommand>(in->steps[0].main).options.root.dir,
            "/work/bundle/rootfs");

  cmd.root = "r2";  // --root wins, relative to the cwd
  in = PrepareApply(cmd, R"({"root": {"path": "/abs"}})", "/work");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->root_dir, "/work/r2");

  cmd.root = "";
  cmd.file = "/etc/c.json";
  in = PrepareApply(cmd, R"({"root": {"path": "/abs/root"}})", "/work");
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_EQ(in->root_dir, "/abs/root");

  in = PrepareApply(cmd, R"([])", "/work");
  EXPECT_THAT(in.status().message(), HasSubstr("give --root DIR"));
  std::optional<OpError> e = GetOpError(in.status());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->stage, Stage::kBadArgument);
  EXPECT_EQ(e->value, "root");
}

TEST(PrepareApplyTest, ReadonlyAndMaskedPathsFollowTheMounts) {
  ApplyCommand cmd;
  cmd.file = "/b/config.json";
  absl::StatusOr<ApplyInputs> in = PrepareApply(cmd,
                                                R"({"root": {"path": "rootfs"},
          "mounts": [{"destination": "/proc", "type": "proc"}],
          "linux": {"readonlyPaths": ["/proc/sys"],
                    "maskedPaths": ["/proc/kcore", "/proc/acpi"]}})",
                                                "/");
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_EQ(in->steps.size(), 4u);
  EXPECT_EQ(in->steps[0].kind, OciStepKind::kMount);
  EXPECT_EQ(in->steps[1].kind, OciStepKind::kReadonlyPath);
  EXPECT_EQ(in->steps[2].kind, OciStepKind::kMaskedPath);
  EXPECT_EQ(in->steps[3].index, 4u);
  EXPECT_EQ(in->steps[3].path_index, 1u);
  EXPECT_EQ(std::get<MountCommand>(in->steps[3].main).options.root.dir,
            "/b/rootfs");

  in = PrepareApply(cmd, R"({"root": {"path": "r"},
                             "linux": {"maskedPaths": [""]}})",
                    "/");
  EXPECT_THAT(in.status().message(),
              HasSubstr("config: linux.maskedPaths[0]: is empty"));
}

}  // namespace
}  // namespace linx::tools
