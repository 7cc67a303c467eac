// Unit tests for the pure parser: table-driven lines, every corpus file,
// the escape and number rules, strict mode, lifetimes and the line formatter.
#include "mountinfo/mountinfo.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linx {
namespace {

using ::linx::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string CorpusDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/", ws ? ws : "linx",
                      "/mountinfo/testdata/corpus");
}

std::string ReadCorpus(const std::string& name) {
  std::ifstream f(CorpusDir() + "/" + name, std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open corpus file " << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

MountTable MustParse(absl::string_view text) {
  absl::StatusOr<MountTable> t = ParseMountInfo(text);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(t).value() : MountTable();
}

// ---- Good lines -----------------------------------------------------------

struct GoodCase {
  const char* name;
  std::string line;
  MountInfo want;
};

MountInfo Info(int32_t id, int32_t parent, uint32_t maj, uint32_t min,
               std::string root, std::string target, std::string vfs,
               std::vector<std::string> opt, std::string fstype,
               std::string source, std::string fs) {
  MountInfo m;
  m.id = id;
  m.parent_id = parent;
  m.major = maj;
  m.minor = min;
  m.root = std::move(root);
  m.target = std::move(target);
  m.vfs_options = std::move(vfs);
  m.optional_fields = std::move(opt);
  m.fstype = std::move(fstype);
  m.source = std::move(source);
  m.fs_options = std::move(fs);
  return m;
}

std::vector<GoodCase> GoodCases() {
  std::vector<GoodCase> c;
  {
    MountInfo m = Info(36, 35, 98, 0, "/mnt1", "/mnt2", "rw,noatime",
                       {"master:1"}, "ext3", "/dev/root", "rw,errors=continue");
    m.master = 1;
    c.push_back({"proc5_example",
                 "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 "
                 "/dev/root rw,errors=continue",
                 m});
  }
  {
    MountInfo m = Info(24, 1, 0, 22, "/", "/sys", "rw,nosuid", {"shared:7"},
                       "sysfs", "sysfs", "rw");
    m.shared = 7;
    c.push_back({"shared",
                 "24 1 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n", m});
  }
  {
    MountInfo m = Info(
        1, 2, 3, 4, "/", "/t", "rw",
        {"shared:5", "master:6", "propagate_from:7", "unbindable", "foo:bar"},
        "tmpfs", "x", "rw");
    m.shared = 5;
    m.master = 6;
    m.propagate_from = 7;
    m.unbindable = true;
    c.push_back({"all_tags_and_unknown",
                 "1 2 3:4 / /t rw shared:5 master:6 propagate_from:7 "
                 "unbindable foo:bar - tmpfs x rw",
                 m});
  }
  {
    MountInfo m =
        Info(5, 6, 0, 0, "/", "/a b\tc\nd\\e#f", "rw", {}, "tmpfs", "", "rw");
    c.push_back({"escapes_and_empty_source",
                 "5 6 0:0 / /a\\040b\\011c\\012d\\134e\\043f rw - tmpfs  rw",
                 m});
  }
  {
    // Broken / out-of-range / NUL escapes stay verbatim.
    MountInfo m = Info(5, 6, 0, 0, "/x\\000y", "/p\\400\\888\\1", "rw", {},
                       "tmpfs", "s\\", "rw\\");
    c.push_back({"verbatim_escapes",
                 "5 6 0:0 /x\\000y /p\\400\\888\\1 rw - tmpfs s\\ rw\\", m});
  }
  {
    MountInfo m = Info(5, 6, 0, 0, "/", "/", "rw", {"mas ter:1"}, "ext 3",
                       "/dev/ro ot", "rw ,errors=continue");
    c.push_back({"escaped_optional_field_is_unknown_tag",
                 "5 6 0:0 / / rw mas\\040ter:1 - ext\\0403 /dev/ro\\040ot "
                 "rw\\040,errors=continue",
                 m});
  }
  {
    MountInfo m = Info(9, 8, 0, 33, "/", "/mnt/c", "rw", {}, "9p", "C:\\",
                       "rw,path=C:\\Program Files\\x;uid=0 extra");
    c.push_back({"super_options_keep_raw_spaces",
                 "9 8 0:33 / /mnt/c rw - 9p C:\\134 rw,path=C:\\Program "
                 "Files\\x;uid=0 extra",
                 m});
  }
  {
    // Found by mountinfo_parse_fuzzer: FormatMountInfoLine wrote the
    // leading blank raw, and it read back as padding (regression file
    // fuzz/corpus/mountinfo_parse/regression-escaped-blank-first-in-super-options).
    MountInfo m =
        Info(1, 2, 0, 1, "/", "/", "rw", {}, "tmpfs", "src", " \tata=ordered");
    c.push_back({"escaped_blank_first_in_super_options",
                 "1 2 0:1 / / rw - tmpfs src \\040\\011ata=ordered", m});
  }
  {
    MountInfo m =
        Info(1, 2, 0, 1, "/", "/", "rw", {}, "tmpfs", "src", "rw,size=1k  x");
    c.push_back({"blanks_before_super_options_are_padding",
                 "1 2 0:1 / / rw - tmpfs src   rw,size=1k  x", m});
  }
  {
    MountInfo m = Info(5, 2, 9, 126, "/", "/", "rw,noatime", {"shared:1"},
                       "ext4", "/dev/sda1", "rw");
    m.shared = 1;
    c.push_back({"padded_columns_and_leading_zero",
                 "05   2 9:126 /    /   rw,noatime  shared:1   - ext4  "
                 "/dev/sda1 rw",
                 m});
  }
  {
    MountInfo m =
        Info(1, 1, 0, 5, "/", "/root", "rw", {}, "rootfs", "rootfs", "rw");
    c.push_back({"double_space_between_root_and_target",
                 "1 1 0:5 /  /root rw - rootfs rootfs rw", m});
  }
  {
    MountInfo m = Info(2147483647, 0, 4294967295u, 4294967295u, "/", "/", "rw",
                       {"shared:4294967295"}, "t", "s", "rw");
    m.shared = 4294967295u;
    c.push_back({"max_values",
                 "2147483647 0 4294967295:4294967295 / / rw shared:4294967295 "
                 "- t s rw",
                 m});
  }
  {
    MountInfo m =
        Info(1, 2, 0, 1, "/", "/mnt/\r", "rw", {}, "tmpfs", "-", "rw");
    c.push_back({"cr_inside_field_kept_trailing_cr_dropped",
                 "1 2 0:1 / /mnt/\r rw - tmpfs - rw\r\n", m});
  }
  {
    MountInfo m = Info(3, 2, 0, 1, "/", "/", "rw", {"-x"}, "tmpfs", "-", "rw");
    c.push_back(
        {"dash_lookalike_optional_field", "3 2 0:1 / / rw -x - tmpfs - rw", m});
  }
  {
    MountInfo m = Info(3, 2, 0, 1, "/", "/mnt/\xff\xfe", "rw", {}, "tmpfs",
                       "\xe2\x80\x9ezupa", "rw");
    c.push_back({"non_utf8_and_utf8_bytes_kept",
                 "3 2 0:1 / /mnt/\xff\xfe rw - tmpfs \xe2\x80\x9ezupa rw", m});
  }
  return c;
}

TEST(ParseMountInfoLineTest, GoodLines) {
  for (const GoodCase& c : GoodCases()) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<MountInfo> got = ParseMountInfoLine(c.line);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->id, c.want.id);
    EXPECT_EQ(got->parent_id, c.want.parent_id);
    EXPECT_EQ(got->major, c.want.major);
    EXPECT_EQ(got->minor, c.want.minor);
    EXPECT_EQ(got->root, c.want.root);
    EXPECT_EQ(got->target, c.want.target);
    EXPECT_EQ(got->vfs_options, c.want.vfs_options);
    EXPECT_EQ(got->optional_fields, c.want.optional_fields);
    EXPECT_EQ(got->shared, c.want.shared);
    EXPECT_EQ(got->master, c.want.master);
    EXPECT_EQ(got->propagate_from, c.want.propagate_from);
    EXPECT_EQ(got->unbindable, c.want.unbindable);
    EXPECT_EQ(got->fstype, c.want.fstype);
    EXPECT_EQ(got->source, c.want.source);
    EXPECT_EQ(got->fs_options, c.want.fs_options);
    EXPECT_TRUE(*got == c.want);
  }
}

TEST(FormatMountInfoLineTest, RoundTripsEveryGoodCase) {
  for (const GoodCase& c : GoodCases()) {
    SCOPED_TRACE(c.name);
    std::string line = FormatMountInfoLine(c.want);
    absl::StatusOr<MountInfo> again = ParseMountInfoLine(line);
    ASSERT_TRUE(again.ok()) << again.status() << " for " << line;
    EXPECT_TRUE(*again == c.want) << line;
  }
}

// ---- Malformed lines ------------------------------------------------------

template <size_t N>
std::string WithNul(const char (&lit)[N]) {
  return std::string(lit, N - 1);
}

struct BadCase {
  const char* name;
  std::string line;
  MountInfoField field;
  const char* reason_substr;
};

std::vector<BadCase> BadCases() {
  using F = MountInfoField;
  return {
      {"majmin_dash", "1 2 8-1 / / rw - ext4 /dev/sda1 rw", F::kMajorMinor,
       "got \"8-1\""},
      {"majmin_empty_major", "1 2 :1 / / rw - t s rw", F::kMajorMinor, ":1"},
      {"majmin_empty_minor", "1 2 1: / / rw - t s rw", F::kMajorMinor, "1:"},
      {"majmin_overflow", "1 2 4294967296:0 / / rw - t s rw", F::kMajorMinor,
       "out of range"},
      {"majmin_hex", "1 2 0x1:0 / / rw - t s rw", F::kMajorMinor, "0x1"},
      {"majmin_negative", "1 2 -1:0 / / rw - t s rw", F::kMajorMinor, "-1:0"},
      {"id_negative", "-1 2 0:0 / / rw - t s rw", F::kMountId, "got \"-1\""},
      {"id_plus", "+7 2 0:0 / / rw - t s rw", F::kMountId, "+7"},
      {"id_overflow_int", "2147483648 2 0:0 / / rw - t s rw", F::kMountId,
       "out of range"},
      {"id_overflow_u64", "111111111111111111111 2 0:0 / / rw - t s rw",
       F::kMountId, "out of range"},
      {"id_alpha", "foo 2 0:0 / / rw - t s rw", F::kMountId, "foo"},
      {"parent_trailing_alpha", "1 24b 0:0 / / rw - t s rw", F::kParentId,
       "24b"},
      {"parent_missing", "1", F::kParentId, "missing"},
      {"root_missing", "256 104 0:3", F::kRoot, "missing"},
      {"no_separator", "1 2 0:0 / / rw shared:1", F::kSeparator, "missing"},
      {"separator_last", "1 2 0:0 / / rw -", F::kFsType, "missing"},
      {"fstype_only", "1 2 0:0 / / rw - tmpfs", F::kSource, "missing"},
      {"no_super_options", "1 2 0:0 / / rw - tmpfs src", F::kSuperOptions,
       "missing"},
      {"empty_super_options", "1 2 0:0 / / rw - tmpfs src ", F::kSuperOptions,
       "missing"},
      // Found by mountinfo_libmount_diff_fuzzer (regression file
      // fuzz/corpus/mountinfo_libmount_diff/regression-blank-only-super-options).
      {"blank_only_super_options", "1 2 0:0 / / rw - tmpfs src    ",
       F::kSuperOptions, "missing"},
      {"empty_fstype", "1 2 0:0 / / rw -  src rw", F::kFsType, "empty"},
      {"bad_shared", "1 2 0:0 / / rw shared:x - t s rw", F::kOptionalFields,
       "shared:x"},
      {"empty_master", "1 2 0:0 / / rw master: - t s rw", F::kOptionalFields,
       "master:"},
      {"repeated_shared", "1 2 0:0 / / rw shared:1 shared:2 - t s rw",
       F::kOptionalFields, "repeated"},
      {"repeated_unbindable", "1 2 0:0 / / rw unbindable unbindable - t s rw",
       F::kOptionalFields, "repeated"},
      {"nul_in_target", WithNul("1 2 0:0 / /a\0b rw - t s rw"), F::kMountPoint,
       "NUL"},
      {"nul_in_super_options", WithNul("1 2 0:0 / / rw - t s r\0w"),
       F::kSuperOptions, "NUL"},
  };
}

TEST(ParseMountInfoTest, MalformedLinesAreSkippedAndReported) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.name);
    // A good line before and after: the bad one must not hide them.
    std::string text = absl::StrCat("10 1 0:1 / / rw - t s rw\n", c.line,
                                    "\n11 10 0:2 / /x rw - t s rw\n");
    MountTable t = MustParse(text);
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0].id, 10);
    EXPECT_EQ(t[1].id, 11);
    ASSERT_EQ(t.skipped().size(), 1u);
    EXPECT_EQ(t.skipped()[0].line, 2u);
    EXPECT_EQ(t.skipped()[0].field, c.field);
    EXPECT_STREQ(t.skipped()[0].field_name, MountInfoFieldName(c.field));
    EXPECT_THAT(t.skipped()[0].reason, HasSubstr(c.reason_substr));
  }
}

TEST(ParseMountInfoTest, StrictModeFailsNamingLineAndField) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.name);
    std::string text =
        absl::StrCat("\n\n# c\n10 1 0:1 / / rw - t s rw\n",
                     "11 1 0:1 / / rw - t s rw\n", "\n", c.line, "\n");
    ParseOptions strict;
    strict.strict = true;
    absl::StatusOr<MountTable> t = ParseMountInfo(text, strict);
    EXPECT_THAT(
        t, StatusIs(absl::StatusCode::kInvalidArgument,
                    HasSubstr(absl::StrCat(
                        "mountinfo line 7, field ", static_cast<int>(c.field),
                        " (", MountInfoFieldName(c.field), "): "))));
    EXPECT_THAT(ParseMountInfoLine(c.line),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("mountinfo line 1, field ")));
  }
}

TEST(ParseMountInfoTest, StrictMessageIsExact) {
  ParseOptions strict;
  strict.strict = true;
  std::string text;
  for (int i = 1; i <= 6; ++i)
    absl::StrAppend(&text, i, " 1 0:1 / / rw - t s rw\n");
  text += "7 1 8-1 / / rw - ext4 /dev/sda1 rw\n";
  absl::StatusOr<MountTable> t = ParseMountInfo(text, strict);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().message(),
            "mountinfo line 7, field 3 (major:minor): got \"8-1\"");
}

TEST(ParseMountInfoTest, BlankCommentAndLineEndHandling) {
  MountTable t = MustParse(
      "\n   \n\t\n# comment\n \t# indented comment\r\n\r\n"
      "1 2 0:1 / /#proc rw - proc proc rw\r\n"
      "3 2 0:1 / /x rw - t s rw");  // no final newline
  ASSERT_EQ(t.size(), 2u);
  EXPECT_THAT(t.skipped(), IsEmpty());
  EXPECT_EQ(t[0].target, "/#proc");
  EXPECT_EQ(t[0].fs_options, "rw");
  EXPECT_EQ(t[1].fs_options, "rw");
}

// Escapes are decoded in place as a line is read, so a line that fails
// after decoding "\\012" holds a raw '\\n' in its already-read part: the
// next line must still start after the real line end (found by the
// mountinfo_parse fuzzer when the line-end search moved into the scan).
TEST(ParseMountInfoTest, DecodedNewlineInAFailedLineIsNotALineEnd) {
  using std::string_literals::operator""s;
  for (const std::string& bad : {
           // repeated tag, after a decoded '\n' in the mount point
           "1 2 0:1 / /a\\012b rw shared:1 shared:2 - t s rw\n"s,
           // NUL in the super options, after decoded '\n's in three fields
           "1 2 0:1 /x\\012\\012 /a rw - t s\\012 rw,\0x\n"s,
           // no separator after decoded '\n's
           "1 2 0:1 / /a\\012b\\012 rw\n"s,
           // bad tag after a decoded tag, "\r\n" line end
           "1 2 0:1 / /a rw master:\\061 shared: - t s rw\r\n"s,
       }) {
    SCOPED_TRACE(bad);
    MountTable t = MustParse(bad + "3 2 0:1 / /next rw - t s rw\n");
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].target, "/next");
    ASSERT_EQ(t.skipped().size(), 1u);
    EXPECT_EQ(t.skipped()[0].line, 1u);
  }
}

TEST(ParseMountInfoTest, EmptyInputIsEmptyTable) {
  MountTable t = MustParse("");
  EXPECT_TRUE(t.empty());
  EXPECT_THAT(t.skipped(), IsEmpty());
}

TEST(ParseMountInfoTest, GarbageFirstLineDoesNotHideTheRest) {
  MountTable t = MustParse("hello world\n1 2 0:1 / / rw - t s rw\n");
  ASSERT_EQ(t.size(), 1u);
  ASSERT_EQ(t.skipped().size(), 1u);
  EXPECT_EQ(t.skipped()[0].line, 1u);
  EXPECT_EQ(t.skipped()[0].field, MountInfoField::kMountId);
}

TEST(ParseMountInfoLineTest, RejectsBlankCommentAndTwoLines) {
  EXPECT_THAT(ParseMountInfoLine(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseMountInfoLine("# x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(
      ParseMountInfoLine("1 2 0:1 / / rw - t s rw\n1 2 0:1 / / rw - t s rw"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("more than one line")));
}

TEST(MountTableTest, ViewsSurviveMovesOfTheTable) {
  // Short strings: an SSO std::string arena would move its bytes.
  std::string text = "1 2 0:1 / /a rw o:1 - t s rw\n";
  absl::StatusOr<MountTable> parsed = ParseMountInfo(std::move(text));
  ASSERT_TRUE(parsed.ok());
  MountTable a = std::move(parsed).value();
  MountTable b = std::move(a);
  MountTable c;
  c = std::move(b);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].target, "/a");
  EXPECT_THAT(c[0].optional_fields, ElementsAre("o:1"));
  std::vector<MountInfo> owned = c.ToMountInfos();
  ASSERT_EQ(owned.size(), 1u);
  EXPECT_EQ(owned[0].target, "/a");
}

TEST(EscapesTest, DecodeTable) {
  struct {
    const char* in;
    std::string want;
  } cases[] = {
      {"a\\040b", "a b"}, {"\\011\\012\\134\\043", "\t\n\\#"},
      {"\\042", "\""},    {"\\057", "/"},
      {"\\377", "\xff"},  {"\\001", "\x01"},
      {"\\000", "\\000"}, {"\\400", "\\400"},
      {"\\777", "\\777"}, {"\\888", "\\888"},
      {"\\1", "\\1"},     {"\\12x", "\\12x"},
      {"x\\", "x\\"},     {"\\\\040", "\\ "},
      {"\\0401", " 1"},   {"", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(DecodeMountInfoEscapes(c.in), c.want);
  }
}

TEST(EscapesTest, EncodeThenDecodeIsIdentityForAllBytes) {
  std::string all;
  for (int b = 1; b < 256; ++b) all.push_back(static_cast<char>(b));
  all += "\\000\\400\\1";
  EXPECT_EQ(DecodeMountInfoEscapes(EncodeMountInfoEscapes(all)), all);
}

// ---- The corpus -----------------------------------------------------------

struct CorpusCase {
  const char* file;
  size_t entries;
  std::vector<uint64_t> skipped_lines;
};

// Expected counts per file. They equal the "lm entries" / "lm rejected
// lines" columns of testdata/corpus/SOURCES.md for every file, even where
// libmount's reason differs (it guesses fstab format for a garbage first
// line; we parse every line as mountinfo and reject the same lines).
const std::vector<CorpusCase>& CorpusCases() {
  static const auto* cases = new std::vector<CorpusCase>{
      {"duf-comments-blank-and-short.txt", 2, {9, 10, 11, 12}},
      {"duf-exceptional-sources-and-targets.txt", 9, {}},
      {"duf-malformed-numeric-fields.txt", 0, {1, 2, 3}},
      {"duf-missing-super-options.txt", 0, {1, 2, 3}},
      {"duf-wsl2-9p.txt", 3, {}},
      {"gopsutil-btrfs-subvol-zfs.txt", 6, {}},
      {"gopsutil-column-aligned.txt", 7, {}},
      {"gopsutil-kubelet-multimount-aligned.txt", 4, {}},
      {"gopsutil-ro-rw-mount-vs-superblock.txt", 3, {}},
      {"k8s-mount-utils-malformed-alpha-major.txt", 0, {1}},
      {"k8s-mount-utils-malformed-alpha-minor.txt", 0, {1}},
      {"k8s-mount-utils-malformed-empty-major.txt", 0, {1}},
      {"k8s-mount-utils-malformed-empty-minor.txt", 0, {1}},
      {"k8s-mount-utils-malformed-missing-majmin.txt", 0, {1}},
      {"k8s-mount-utils-master-before-shared.txt", 1, {}},
      {"k8s-mount-utils-parse-mountinfo.txt", 41, {}},
      {"k8s-mount-utils-search-base.txt", 23, {}},
      {"k8s-mount-utils-search-bind-subdir.txt", 27, {}},
      {"k8s-mount-utils-search-tmpfs-two-pods.txt", 26, {}},
      {"moby-sys-extra-valid.txt", 5, {}},
      {"moby-sys-fedora.txt", 58, {}},
      {"moby-sys-gentoo-aufs.txt", 222, {}},
      {"moby-sys-malformed-no-separator.txt", 0, {1}},
      {"moby-sys-malformed-not-enough-fields-1.txt", 0, {1}},
      {"moby-sys-malformed-not-enough-fields-2.txt", 0, {1}},
      {"moby-sys-malformed-not-enough-post-separator.txt", 0, {1}},
      {"moby-sys-ubuntu-aufs.txt", 130, {}},
      {"moby-sys-with-spaces.txt", 3, {}},
      {"opencontainers-cgroups-bedrock.txt", 55, {}},
      {"opencontainers-cgroups-cgroup2.txt", 26, {}},
      {"opencontainers-cgroups-duplicate-id.txt", 2, {}},
      {"opencontainers-cgroups-systemd-in-docker.txt", 23, {}},
      {"procfs-rs-pasta-empty-source-root.txt", 1, {}},
      {"prometheus-procfs-double-space-before-separator.txt", 1, {}},
      {"prometheus-procfs-fixture-26231.txt", 8, {}},
      {"prometheus-procfs-garbage-hello.txt", 0, {1}},
      {"prometheus-procfs-mixed-optional-fields.txt", 5, {}},
      {"snapd-broken-octal-888-and-trailing-backslash.txt", 1, {}},
      {"snapd-broken-octal-partial.txt", 5, {}},
      {"snapd-carriage-return-in-target.txt", 1, {}},
      {"snapd-empty-file.txt", 0, {}},
      {"snapd-empty-source.txt", 1, {}},
      {"snapd-escaped-source.txt", 4, {}},
      {"snapd-escapes-in-every-field.txt", 1, {}},
      {"snapd-kernel-doc-example.txt", 1, {}},
      {"snapd-malformed-alpha-major.txt", 0, {1}},
      {"snapd-malformed-alpha-minor.txt", 0, {1}},
      {"snapd-malformed-alpha-mount-id.txt", 0, {1}},
      {"snapd-malformed-alpha-parent-id.txt", 0, {1}},
      {"snapd-malformed-missing-source.txt", 0, {1}},
      {"snapd-malformed-missing-super-options.txt", 0, {1}},
      {"snapd-malformed-no-colon-majmin.txt", 0, {1}},
      {"snapd-malformed-no-separator.txt", 0, {1}},
      {"snapd-malformed-separator-last.txt", 0, {1}},
      {"snapd-malformed-truncated-after-majmin.txt", 0, {1}},
      {"snapd-malformed-unterminated-optional.txt", 0, {1}},
      {"snapd-nfs-autofs-cifs.txt", 6, {}},
      {"snapd-nsfs-and-bind-root.txt", 3, {}},
      {"snapd-optional-fields.txt", 6, {}},
      {"snapd-overlay-root-variants.txt", 17, {}},
      {"snapd-same-id-unknown-optional.txt", 3, {}},
      {"snapd-trailing-extra-field.txt", 1, {}},
      {"snapd-wsl2-9p-unescaped-spaces.txt", 1, {}},
      {"systemd-libmount-carriage-return.txt", 1, {}},
      {"systemd-libmount-empty-source.txt", 1, {}},
      {"systemd-libmount-escaped-newline.txt", 1, {}},
      {"systemd-libmount-escaped-space-utf8.txt", 1, {}},
      {"systemd-test-umount-garbled.txt", 2, {2, 3, 4}},
      {"systemd-test-umount-rhbug-1554943.txt", 47, {}},
      {"systemd-unicode-noncharacter.txt", 2, {}},
      {"tailhook-libmount-comments-and-hash.txt", 1, {}},
      {"tailhook-libmount-crlf-and-blank-lines.txt", 2, {}},
      {"tailhook-libmount-escapes.txt", 1, {}},
      {"tailhook-libmount-invalid-escape.txt", 1, {}},
      {"tailhook-libmount-malformed-incomplete-row.txt", 0, {1}},
      {"tailhook-libmount-malformed-invalid-int.txt", 0, {1}},
      {"tailhook-libmount-malformed-overflowed-int.txt", 0, {1}},
      {"tailhook-libmount-non-utf8.txt", 1, {}},
      {"tailhook-libmount-overflowed-escape.txt", 1, {}},
      {"util-linux-column-mountinfo.txt", 41, {}},
      {"util-linux-findmnt-messy.txt", 29, {}},
      {"util-linux-findmnt-nonroot.txt", 31, {}},
      {"util-linux-libmount-btrfs.txt", 8, {}},
      {"util-linux-libmount-mountinfo.txt", 33, {}},
      {"util-linux-libmount-nosrc.txt", 7, {}},
  };
  return *cases;
}

TEST(CorpusTest, EveryFileHasTheExpectedEntriesAndSkips) {
  ASSERT_EQ(CorpusCases().size(), 85u) << "one case per corpus file";
  for (const CorpusCase& c : CorpusCases()) {
    SCOPED_TRACE(c.file);
    MountTable t = MustParse(ReadCorpus(c.file));
    EXPECT_EQ(t.size(), c.entries);
    std::vector<uint64_t> lines;
    for (const SkippedLine& s : t.skipped()) lines.push_back(s.line);
    EXPECT_EQ(lines, c.skipped_lines);
    // Strict mode agrees: fails exactly when something was skipped.
    ParseOptions strict;
    strict.strict = true;
    absl::StatusOr<MountTable> st = ParseMountInfo(ReadCorpus(c.file), strict);
    EXPECT_EQ(st.ok(), c.skipped_lines.empty()) << st.status();
    // Every entry survives a format/parse round trip.
    for (const MountEntry& e : t) {
      MountInfo m(e);
      absl::StatusOr<MountInfo> again =
          ParseMountInfoLine(FormatMountInfoLine(m));
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_TRUE(*again == m) << FormatMountInfoLine(m);
    }
  }
}

const MountEntry* FindTarget(const MountTable& t, absl::string_view target) {
  for (const MountEntry& e : t) {
    if (e.target == target) return &e;
  }
  return nullptr;
}

TEST(CorpusTest, InterestingFieldValues) {
  {
    SCOPED_TRACE("snapd-escapes-in-every-field");
    MountTable t = MustParse(ReadCorpus("snapd-escapes-in-every-field.txt"));
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].root, "/mnt 1");
    EXPECT_EQ(t[0].target, "/mnt 2");
    EXPECT_EQ(t[0].vfs_options, "noatime,rw ");
    EXPECT_THAT(t[0].optional_fields, ElementsAre("mas ter:1"));
    EXPECT_FALSE(t[0].master.has_value());
    EXPECT_EQ(t[0].fstype, "ext 3");
    EXPECT_EQ(t[0].source, "/dev/ro ot");
    EXPECT_EQ(t[0].fs_options, "rw ,errors=continue");
  }
  {
    SCOPED_TRACE("snapd-wsl2-9p-unescaped-spaces");
    MountTable t = MustParse(ReadCorpus("snapd-wsl2-9p-unescaped-spaces.txt"));
    ASSERT_EQ(t.size(), 1u);
    EXPECT_THAT(std::string(t[0].fs_options),
                HasSubstr("path=C:\\Program Files\\Docker\\"));
  }
  {
    SCOPED_TRACE("gopsutil-column-aligned");
    MountTable t = MustParse(ReadCorpus("gopsutil-column-aligned.txt"));
    ASSERT_EQ(t.size(), 7u);
    EXPECT_EQ(t[0].id, 5);
    EXPECT_EQ(t[0].source, "/dev/sda1");
    EXPECT_EQ(t[0].fs_options, "rw");
    EXPECT_EQ(t[3].source, "-");
    EXPECT_THAT(t[3].optional_fields, IsEmpty());
    EXPECT_EQ(t[4].root, "net:[12345]");
    EXPECT_EQ(t[6].fs_options, "rw,mode=755");
  }
  {
    SCOPED_TRACE("tailhook-libmount-overflowed-escape");
    MountTable t =
        MustParse(ReadCorpus("tailhook-libmount-overflowed-escape.txt"));
    ASSERT_EQ(t.size(), 1u);
    EXPECT_THAT(std::string(t[0].target), HasSubstr("/proc\\400"));
  }
  {
    SCOPED_TRACE("snapd-broken-octal-888-and-trailing-backslash");
    MountTable t = MustParse(
        ReadCorpus("snapd-broken-octal-888-and-trailing-backslash.txt"));
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].source, "no\\888thing");
    EXPECT_EQ(t[0].fs_options.back(), '\\');
  }
  {
    SCOPED_TRACE("moby-sys-with-spaces");
    MountTable t = MustParse(ReadCorpus("moby-sys-with-spaces.txt"));
    const MountEntry* e =
        FindTarget(t, "/tmp/newline\ntab\tspace backslash\\quote1'quote2\"");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->root, e->target);
  }
  {
    SCOPED_TRACE("util-linux-libmount-nosrc");
    MountTable t = MustParse(ReadCorpus("util-linux-libmount-nosrc.txt"));
    int empty = 0;
    for (const MountEntry& e : t) empty += e.source.empty();
    EXPECT_GE(empty, 1);
  }
  {
    SCOPED_TRACE("util-linux-findmnt-messy");
    MountTable t = MustParse(ReadCorpus("util-linux-findmnt-messy.txt"));
    int deleted = 0, shared_and_master = 0;
    for (const MountEntry& e : t) {
      deleted += absl::EndsWith(e.root, "//deleted");
      shared_and_master += e.shared.has_value() && e.master.has_value();
    }
    EXPECT_GE(deleted, 2);
    EXPECT_GE(shared_and_master, 1);
  }
  {
    SCOPED_TRACE("k8s-mount-utils-master-before-shared");
    MountTable t =
        MustParse(ReadCorpus("k8s-mount-utils-master-before-shared.txt"));
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].master, 1u);
    EXPECT_EQ(t[0].shared, 44u);
  }
  {
    SCOPED_TRACE("systemd-test-umount-garbled");
    MountTable t = MustParse(ReadCorpus("systemd-test-umount-garbled.txt"));
    ASSERT_GE(t.size(), 1u);
    EXPECT_EQ(t[0].major, 1000999u);
    EXPECT_EQ(t[0].minor, 110999u);
  }
  {
    SCOPED_TRACE("tailhook-libmount-crlf-and-blank-lines");
    MountTable t =
        MustParse(ReadCorpus("tailhook-libmount-crlf-and-blank-lines.txt"));
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0].fs_options, "rw");
    EXPECT_EQ(t[1].fs_options, "rw");
  }
  {
    SCOPED_TRACE("util-linux-libmount-mountinfo CR in target");
    MountTable t = MustParse(ReadCorpus("util-linux-libmount-mountinfo.txt"));
    EXPECT_NE(FindTarget(t, "/mnt/test/foo\rbar"), nullptr);
  }
  {
    SCOPED_TRACE("snapd-trailing-extra-field");
    MountTable t = MustParse(ReadCorpus("snapd-trailing-extra-field.txt"));
    ASSERT_EQ(t.size(), 1u);
    EXPECT_TRUE(absl::EndsWith(t[0].fs_options, " foo"));
  }
}

// One table reused for every corpus file in turn (and each twice, larger
// and smaller tables alternating): Reparse gives exactly what a fresh
// ParseMountInfo gives, skipped lines included.
TEST(MountTableTest, ReparseEqualsAFreshParseForEveryCorpusFile) {
  MountTable reused;
  for (int pass = 0; pass < 2; ++pass) {
    for (const CorpusCase& c : CorpusCases()) {
      SCOPED_TRACE(c.file);
      std::string text = ReadCorpus(c.file);
      absl::StatusOr<MountTable> fresh = ParseMountInfo(text);
      ASSERT_TRUE(fresh.ok());
      ASSERT_TRUE(reused.Reparse(text).ok());
      EXPECT_EQ(reused.ToMountInfos(), fresh->ToMountInfos());
      ASSERT_EQ(reused.skipped().size(), fresh->skipped().size());
      for (size_t i = 0; i < reused.skipped().size(); ++i) {
        EXPECT_EQ(reused.skipped()[i].line, fresh->skipped()[i].line);
        EXPECT_EQ(reused.skipped()[i].reason, fresh->skipped()[i].reason);
      }
      for (size_t i = 0; i < reused.size(); ++i) {
        EXPECT_EQ(reused[i].optional_fields.size(),
                  fresh->entries()[i].optional_fields.size());
      }
    }
  }
}

TEST(MountTableTest, StrictReparseErrorLeavesTheTableEmpty) {
  MountTable t;
  ASSERT_TRUE(t.Reparse("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n").ok());
  ASSERT_EQ(t.size(), 1u);
  ParseOptions strict;
  strict.strict = true;
  absl::Status s = t.Reparse("1 0 8-1 / / rw - ext4 /dev/sda1 rw\n", strict);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "mountinfo line 1, field 3 (major:minor): got \"8-1\"");
  EXPECT_TRUE(t.empty());
  EXPECT_TRUE(t.skipped().empty());
  ASSERT_TRUE(t.Reparse("").ok());
  EXPECT_TRUE(t.empty());
}

// The scanner tests 16 bytes at a time for "<= 0x20 or backslash" and lets
// the class table reject other control bytes: fields full of them, at every
// offset against the 16-byte blocks, parse as they would byte by byte.
TEST(ParseMountInfoTest, ControlBytesInsideFieldsAtEveryBlockOffset) {
  for (int pad = 0; pad < 40; ++pad) {
    SCOPED_TRACE(pad);
    std::string target = "/" + std::string(pad, 'x') +
                         "\x01"
                         "a\x1f\x0b\x7f" +
                         std::string(17, 'y') + "\\040z";
    std::string line = absl::StrCat("36 35 98:0 /r\x02oot ", target,
                                    " rw,noatime master:1 - ext3 /dev/r\x1foot "
                                    "rw,errors=continue\n");
    std::string text = line + line;
    absl::StatusOr<MountTable> t = ParseMountInfo(text);
    ASSERT_TRUE(t.ok());
    ASSERT_EQ(t->size(), 2u);
    EXPECT_TRUE(t->skipped().empty());
    EXPECT_EQ((*t)[1].target, "/" + std::string(pad, 'x') +
                                  "\x01"
                                  "a\x1f\x0b\x7f" +
                                  std::string(17, 'y') + " z");
    EXPECT_EQ((*t)[1].root, "/r\x02oot");
    EXPECT_EQ((*t)[1].source, "/dev/r\x1foot");
    EXPECT_EQ((*t)[1].master, 1u);
    EXPECT_EQ((*t)[1].fs_options, "rw,errors=continue");
  }
}

}  // namespace
}  // namespace linx
