// Output formats for a parsed mount table: the JSON object `linx list --json`
// prints, and the findmnt-like table of `linx list`.
//
//   absl::StatusOr<linx::MountTable> t = linx::ReadMountInfo();
//   if (!t.ok()) return t.status();
//   std::string out;
//   // {"mounts": [...], "skipped": [...]}
//   linx::AppendMountTableJson(*t, &out);
//   std::fwrite(out.data(), 1, out.size(), stdout);
//
// Pure functions: no I/O, thread-safe, they only append to `out`.
#ifndef LINX_MOUNTINFO_FORMAT_H_
#define LINX_MOUNTINFO_FORMAT_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/json.h"
#include "mountinfo/mountinfo.h"

namespace linx {

// JSON strings are written by base/json.h's AppendJsonString (valid UTF-8
// as is, each other byte as the lone surrogate \udcXX: Python's
// "surrogateescape"), the one writer every linx JSON output shares.

// Appends exactly one JSON object, no trailing newline:
//   {"mounts": [{"id": 24, "parent_id": 1, "major": 0, "minor": 22,
//     "root": "/", "target": "/sys", "vfs_options": "rw,nosuid",
//     "optional_fields": ["shared:7"], "shared": 7, "master": null,
//     "propagate_from": null, "unbindable": false, "fstype": "sysfs",
//     "source": "sysfs", "fs_options": "rw"}],
//    "skipped": [{"line": 12, "field": "major:minor", "reason": "..."}]}
// Strings are the decoded values, encoded with AppendJsonString.
void AppendMountTableJson(const MountTable& table, std::string* out);

// One mount as one JSON object with the keys, in the order, of an element
// of the "mounts" array above. For entries of a MountTable and for owned
// MountInfo values alike (`linx find`, `linx watch`).
void AppendMountJson(const MountEntry& m, std::string* out);
void AppendMountJson(const MountInfo& m, std::string* out);

// The same JSON text as AppendMountTableJson, handed to `write` in pieces of
// roughly `chunk_size` bytes (never split inside an entry's UTF-8 text), so
// a caller can stream a huge table without holding the whole output. Stops
// and returns false as soon as `write` returns false; true otherwise.
bool WriteMountTableJson(const MountTable& table, size_t chunk_size,
                         absl::FunctionRef<bool(absl::string_view)> write);
// The same for owned values (ListMounts(), either back end): "skipped" is
// always empty. For the same mounts the text is byte for byte that of the
// MountTable overload.
bool WriteMountTableJson(absl::Span<const MountInfo> table, size_t chunk_size,
                         absl::FunctionRef<bool(absl::string_view)> write);

// Appends a findmnt -l style table with a header line and the columns
// ID PARENT MAJ:MIN TARGET SOURCE FSTYPE PROPAGATION OPTIONS. Columns are
// padded to the widest value, but never wider than kMaxPaddedColumn (a
// longer value just runs on, as in findmnt): one hostile 10 MB path must not
// pad every other row to 10 MB. Bytes that would break the layout (blanks,
// control bytes, backslash) are shown as octal escapes like the kernel's
// (`\040`), so each entry stays on one line. Skipped lines are not listed
// (the CLI reports them on stderr).
inline constexpr size_t kMaxPaddedColumn = 160;
void AppendMountTableText(const MountTable& table, std::string* out);
// The same table for owned values, identical for the same mounts.
void AppendMountTableText(absl::Span<const MountInfo> table, std::string* out);

// "shared:7,master:2" / "private" / "unbindable": the propagation column.
std::string PropagationSummary(const MountEntry& e);
std::string PropagationSummary(const MountInfo& e);

}  // namespace linx

#endif  // LINX_MOUNTINFO_FORMAT_H_
