// Test-only: parse mountinfo text with util-linux libmount and compare its
// view with ParseMountInfo's, field by field. Used by the differential test
// and the differential fuzzer.
#ifndef LINX_MOUNTINFO_LIBMOUNT_COMPARE_H_
#define LINX_MOUNTINFO_LIBMOUNT_COMPARE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "mountinfo/mountinfo.h"

namespace linx {

// One entry as libmount 2.38 returns it (mnt_fs_get_*). Strings that
// libmount leaves NULL are "" with the matching *_null flag set.
struct LibmountEntry {
  int id = 0;
  int parent_id = 0;
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string root, target, vfs_options, optional_fields, fstype, source,
      fs_options;
  bool source_null = false;
  bool optional_fields_null = false;
};

// Parses `text` with mnt_new_table() + mnt_table_parse_stream() over
// fmemopen(3). libmount skips bad lines silently (its default).
std::vector<LibmountEntry> LibmountParse(absl::string_view text);

// A field where the two parsers disagree.
struct FieldDiff {
  size_t entry = 0;   // index in both tables
  std::string field;  // "id", "parent_id", "major", "minor", "root",
                      // "target", "vfs_options", "optional_fields",
                      // "fstype", "source", "fs_options", or "entries"
  std::string ours;
  std::string theirs;
};

// Compares entry i with entry i. Optional fields are compared as libmount
// stores them: one string, our list joined with single spaces. A count
// mismatch gives one "entries" diff and compares the common prefix.
std::vector<FieldDiff> CompareWithLibmount(
    const MountTable& ours, const std::vector<LibmountEntry>& theirs);

}  // namespace linx

#endif  // LINX_MOUNTINFO_LIBMOUNT_COMPARE_H_
