// Differential test: ParseMountInfo vs util-linux libmount over the corpus.
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "mountinfo/libmount_compare.h"
#include "mountinfo/mountinfo.h"

namespace linx {
namespace {

std::string CorpusDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/", ws ? ws : "linx",
                      "/mountinfo/testdata/corpus");
}

std::vector<std::string> CorpusFiles() {
  std::ifstream idx(CorpusDir() + "/SOURCES.md");
  std::vector<std::string> files;
  std::string line;
  while (std::getline(idx, line)) {
    if (line.rfind("| `", 0) == 0) {
      size_t e = line.find('`', 3);
      files.push_back(line.substr(3, e - 3));
    }
  }
  return files;
}

// Why we differ from libmount 2.38.1 on purpose (docs/mountinfo.md,
// "Differences from libmount").
enum class Why {
  // Super options are the rest of the line; libmount stops at the first
  // blank and drops the rest (cifs `unc=\\foo\BLA BLA`, 9p on WSL paths).
  kSuperOptionsKeepRawSpaces,
  // Runs of blanks are column padding on every field of a padded line;
  // libmount takes "fstype  x" as an empty source and shifts the source
  // into the super options, and keeps the padding in the optional fields.
  kPaddedColumns,
  // Optional fields are unescaped like every other field; libmount
  // returns them raw.
  kOptionalFieldsUnescaped,
  // `\400`..`\777` (and `\000`) are kept verbatim; libmount wraps them to
  // NUL and truncates the string.
  kOutOfRangeEscapeKeptVerbatim,
};

struct Expected {
  const char* file;
  size_t entry;
  const char* field;
  Why why;
};

const std::vector<Expected>& ExpectedDifferences() {
  using W = Why;
  static const auto* v = new std::vector<Expected>{
      {"duf-wsl2-9p.txt", 2, "fs_options", W::kSuperOptionsKeepRawSpaces},
      {"moby-sys-extra-valid.txt", 1, "fs_options",
       W::kSuperOptionsKeepRawSpaces},
      {"moby-sys-fedora.txt", 57, "fs_options", W::kSuperOptionsKeepRawSpaces},
      {"moby-sys-with-spaces.txt", 1, "fs_options",
       W::kSuperOptionsKeepRawSpaces},
      {"snapd-trailing-extra-field.txt", 0, "fs_options",
       W::kSuperOptionsKeepRawSpaces},
      {"snapd-wsl2-9p-unescaped-spaces.txt", 0, "fs_options",
       W::kSuperOptionsKeepRawSpaces},
      {"gopsutil-column-aligned.txt", 0, "optional_fields", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 0, "source", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 0, "fs_options", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 1, "optional_fields", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 1, "source", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 1, "fs_options", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 2, "optional_fields", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 2, "source", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 2, "fs_options", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 3, "optional_fields", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 4, "optional_fields", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 4, "source", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 4, "fs_options", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 5, "optional_fields", W::kPaddedColumns},
      {"gopsutil-column-aligned.txt", 6, "optional_fields", W::kPaddedColumns},
      {"snapd-escapes-in-every-field.txt", 0, "optional_fields",
       W::kOptionalFieldsUnescaped},
      {"tailhook-libmount-overflowed-escape.txt", 0, "target",
       W::kOutOfRangeEscapeKeptVerbatim},
  };
  return *v;
}

std::string ReadFile(const std::string& name) {
  std::ifstream in(CorpusDir() + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(LibmountDiffTest, CorpusDiffersOnlyWhereDocumented) {
  std::vector<std::string> files = CorpusFiles();
  ASSERT_EQ(files.size(), 85u);
  std::set<std::tuple<std::string, size_t, std::string>> expected;
  for (const Expected& e : ExpectedDifferences()) {
    expected.insert({e.file, e.entry, e.field});
  }
  std::set<std::tuple<std::string, size_t, std::string>> seen;
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    std::string text = ReadFile(f);
    absl::StatusOr<MountTable> ours = ParseMountInfo(text);
    ASSERT_TRUE(ours.ok());
    std::vector<LibmountEntry> theirs = LibmountParse(text);
    // Same number of entries from every file (and so the same lines
    // rejected: both skip exactly SOURCES.md's "lm rejected lines").
    EXPECT_EQ(ours->size(), theirs.size());
    for (const FieldDiff& d : CompareWithLibmount(*ours, theirs)) {
      seen.insert({f, d.entry, d.field});
      EXPECT_TRUE(expected.count({f, d.entry, d.field}))
          << "undocumented difference in entry " << d.entry << ", field "
          << d.field << ": ours \"" << absl::CEscape(d.ours)
          << "\", libmount \"" << absl::CEscape(d.theirs) << "\"";
    }
  }
  for (const auto& e : expected) {
    EXPECT_TRUE(seen.count(e))
        << "documented difference no longer occurs: " << std::get<0>(e)
        << " entry " << std::get<1>(e) << " " << std::get<2>(e);
  }
}

TEST(LibmountDiffTest, EveryOtherFieldIsEqualOnKernelFormatLines) {
  // A few kernel-format lines with every feature both parsers share.
  std::string text =
      "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root "
      "rw,errors=continue\n"
      "37 35 0:5 /a\\040b /t\\011x\\012y\\134z rw shared:2 master:3 "
      "propagate_from:4 unbindable - tmpfs  rw,size=1k\n"
      "38 37 8:1 / /\xe2\x80\x9e\xff rw - ext\\0404 src\\040x "
      "rw\\040y\r\n";
  absl::StatusOr<MountTable> ours = ParseMountInfo(text);
  ASSERT_TRUE(ours.ok());
  ASSERT_EQ(ours->size(), 3u);
  std::vector<FieldDiff> diffs =
      CompareWithLibmount(*ours, LibmountParse(text));
  for (const FieldDiff& d : diffs) {
    ADD_FAILURE() << "entry " << d.entry << " " << d.field << ": ours \""
                  << absl::CEscape(d.ours) << "\", libmount \""
                  << absl::CEscape(d.theirs) << "\"";
  }
}

}  // namespace
}  // namespace linx
