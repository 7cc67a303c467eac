// mountinfo: an exact, fast parser for /proc/<pid>/mountinfo (proc(5)), and
// the one function that reads it from the kernel.
//
//   absl::StatusOr<linx::MountTable> table = linx::ReadMountInfo();
//   if (!table.ok()) return table.status();
//   for (const linx::MountEntry& m : *table) {
//     if (m.shared.has_value()) {
//       std::cout << m.target << " is in peer group " << *m.shared << "\n";
//     }
//   }
//   for (const linx::SkippedLine& s : table->skipped()) {
//     std::cerr << "line " << s.line << ": " << s.field_name << ": "
//               << s.reason << "\n";
//   }
//
// A mountinfo line (proc(5), "/proc/pid/mountinfo"), fields numbered:
//
//   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//   (1)(2)(3)  (4)   (5)   (6)        (7)      (8)(9) (10)      (11)
//
// Every field is kept. String fields have the kernel's octal escapes (`\040`
// space, `\011` tab, `\012` newline, `\134` backslash, `\043` '#', and any
// other `\NNN`) decoded; an escape that would decode to NUL or above `\377`,
// and a broken escape (`\1`, `\888`, a trailing `\`), is kept verbatim, so a
// string is never truncated. docs/mountinfo.md has the full grammar, the
// separator and line-ending rules and the differences from libmount.
//
// Ownership: a MountTable owns one arena (the input text, copied or moved in,
// with escapes decoded in place) and every MountEntry's string_views and
// spans point into it. They stay valid while the MountTable lives, including
// after the table is moved (the arena is heap-allocated and never moves);
// they dangle once it is destroyed. Copy what you keep (MountInfo is the
// owning copy of one entry).
#ifndef LINX_MOUNTINFO_MOUNTINFO_H_
#define LINX_MOUNTINFO_MOUNTINFO_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace linx {

// proc(5) field numbers, used in SkippedLine::field and in error messages.
enum class MountInfoField : int {
  kLine = 0,  // the line as a whole (e.g. a NUL byte in no particular field)
  kMountId = 1,
  kParentId = 2,
  kMajorMinor = 3,
  kRoot = 4,
  kMountPoint = 5,
  kMountOptions = 6,
  kOptionalFields = 7,
  kSeparator = 8,
  kFsType = 9,
  kSource = 10,
  kSuperOptions = 11,
};

// "line", "mount ID", "parent ID", "major:minor", "root", "mount point",
// "mount options", "optional fields", "separator", "filesystem type",
// "mount source", "super options". Static storage.
const char* MountInfoFieldName(MountInfoField field);

// One entry of a mount table, as views into its MountTable's arena (see the
// ownership note at the top of this file). Cheap to copy; does not own.
struct MountEntry {
  // (1) The mount ID, unique within a namespace (may be reused after an
  // unmount). The kernel prints an `int`; accepted range 0..2^31-1.
  int32_t id = 0;
  // (2) The parent's mount ID; the entry itself (id == parent_id, "rootfs")
  // or an ID that is not in the table for the namespace root.
  int32_t parent_id = 0;
  // (3) st_dev of files on this filesystem. Accepted range 0..2^32-1 each
  // (the kernel's 12/20-bit limits are not enforced).
  uint32_t major = 0;
  uint32_t minor = 0;
  // (4) The root of the mount within the filesystem ("/" for a whole
  // filesystem, "/sub/dir" for a bind mount of a subdirectory, may end in
  // "//deleted"; nsfs prints "mnt:[4026531840]").
  absl::string_view root;
  // (5) The mount point, relative to the reading process's root.
  absl::string_view target;
  // (6) Per-mount (VFS) options: "rw,nosuid,relatime".
  absl::string_view vfs_options;
  // (7) The optional fields exactly as listed (each decoded), in order,
  // including tags this parser does not know ("opt:1", "foo:bar").
  absl::Span<const absl::string_view> optional_fields;
  // Typed views of the known tags: "shared:N" (peer group N),
  // "master:N" (slave of peer group N), "propagate_from:N" (nearest dominant
  // peer group), "unbindable". Absent tags are nullopt / false.
  std::optional<uint32_t> shared;
  std::optional<uint32_t> master;
  std::optional<uint32_t> propagate_from;
  bool unbindable = false;
  // (9) The filesystem type, "type" or "type.subtype" ("fuse.sshfs").
  absl::string_view fstype;
  // (10) The mount source ("/dev/sda1", "tmpfs"); may be empty.
  absl::string_view source;
  // (11) Per-superblock options: the whole rest of the line after the
  // source, raw spaces included (cifs and 9p print unescaped spaces here).
  // Blanks between the source and the options are padding; never empty.
  absl::string_view fs_options;

  // True when the mount is in no peer group and receives from none.
  bool is_private() const { return !shared && !master && !unbindable; }
};

// An owning copy of one entry: the convenient value type for callers that
// keep entries beyond the table's life. Same fields as MountEntry.
struct MountInfo {
  MountInfo() = default;
  explicit MountInfo(const MountEntry& e);

  int32_t id = 0;
  int32_t parent_id = 0;
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string root;
  std::string target;
  std::string vfs_options;
  std::vector<std::string> optional_fields;
  std::optional<uint32_t> shared;
  std::optional<uint32_t> master;
  std::optional<uint32_t> propagate_from;
  bool unbindable = false;
  std::string fstype;
  std::string source;
  std::string fs_options;

  friend bool operator==(const MountInfo& a, const MountInfo& b);
  friend bool operator!=(const MountInfo& a, const MountInfo& b) {
    return !(a == b);
  }
};

// A line that was not an entry (lenient mode only; strict mode fails).
// Blank lines, whitespace-only lines and lines whose first non-blank byte is
// '#' are ignored silently and never reported here.
struct SkippedLine {
  uint64_t line = 0;  // 1-based line number in the input
  MountInfoField field = MountInfoField::kLine;
  const char* field_name = "line";  // MountInfoFieldName(field)
  // What was wrong, e.g. `got "8-1"`, `missing`, `out of range: got
  // "4294967296"`. Offending bytes are C-escaped and cut at 64 bytes.
  std::string reason;
};

// A line with more optional fields (7) than this is malformed ("more than 64
// optional fields"). The kernel prints at most four (shared, master,
// propagate_from, unbindable); the bound keeps a hostile line of a million
// one-letter fields from costing a million views.
inline constexpr size_t kMaxOptionalFieldsPerLine = 64;

struct ParseOptions {
  // false: malformed lines are skipped and listed in MountTable::skipped().
  // true: the first malformed line fails the parse with kInvalidArgument and
  // the message `mountinfo line 7, field 3 (major:minor): got "8-1"`.
  bool strict = false;
  // Bounds on what a hostile text can make the parser allocate. More entries
  // than `max_entries`, or (lenient mode) more malformed lines than
  // `max_skipped`, fail the parse with kResourceExhausted and a message
  // naming the line and the option. The kernel's default limit is 100 000
  // mounts per namespace (/proc/sys/fs/mount-max); raise these for a system
  // configured beyond that.
  size_t max_entries = 1 << 20;
  size_t max_skipped = 1 << 16;
};

// A parsed mount table. Owns the arena every entry points into. Move-only
// (moving keeps all views valid); not thread-safe for mutation, but a const
// MountTable may be read from any number of threads.
class MountTable {
 public:
  MountTable();
  MountTable(MountTable&&) noexcept;
  MountTable& operator=(MountTable&&) noexcept;
  MountTable(const MountTable&) = delete;
  MountTable& operator=(const MountTable&) = delete;
  ~MountTable();

  // The entries in input order (the kernel's order: mount order, not
  // sorted by ID; duplicates and missing parents are kept as given).
  absl::Span<const MountEntry> entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const MountEntry& operator[](size_t i) const { return entries_[i]; }
  std::vector<MountEntry>::const_iterator begin() const {
    return entries_.begin();
  }
  std::vector<MountEntry>::const_iterator end() const { return entries_.end(); }

  // Lines that were skipped as malformed (always empty in strict mode).
  absl::Span<const SkippedLine> skipped() const { return skipped_; }

  // Owning copies of every entry.
  std::vector<MountInfo> ToMountInfos() const;

  // Parses `text` into this table, reusing its memory: the text is copied
  // into the existing arena and the entry and optional-field vectors keep
  // their capacity, so a caller that re-reads a table of similar size
  // allocates (and page-faults) nothing new. Same entries, skipped lines and
  // errors as ParseMountInfo(text, options). Every view taken from the
  // table before (entries, strings, spans) is invalidated. On error (strict
  // mode) the table is left empty. Not thread-safe against readers of this
  // table.
  absl::Status Reparse(absl::string_view text,
                       const ParseOptions& options = {});

 private:
  friend absl::StatusOr<MountTable> ParseMountInfo(std::string&& text,
                                                   const ParseOptions& options);
  friend absl::StatusOr<MountTable> ParseMountInfo(absl::string_view text,
                                                   const ParseOptions& options);
  // Parses the text in *arena_ into the vectors (cleared first). `lines`:
  // the number of '\n' in it when the caller counted them while copying,
  // kCount to count them first (to size the vectors once), kUncounted to
  // keep the vectors' capacity and grow them as needed.
  static constexpr size_t kCount = ~size_t{0};
  static constexpr size_t kUncounted = ~size_t{0} - 1;
  absl::Status ParseArena(const ParseOptions& options, size_t lines);
  std::unique_ptr<std::string> arena_;
  std::vector<absl::string_view> optional_fields_;
  std::vector<MountEntry> entries_;
  std::vector<SkippedLine> skipped_;
  std::vector<std::pair<size_t, size_t>> opt_ranges_;  // per entry
};

// Parses a whole mountinfo text. Pure: no global state, and no syscalls
// but a madvise(2) MADV_HUGEPAGE hint on the arena and the entry vector when
// they are 4 MiB or more (fewer page faults; errors ignored); thread-safe.
// The text is copied once into the table's arena (the std::string&&
// overload moves it instead); no other per-entry or per-field allocation
// happens except the entry and optional-field vectors (amortized) and the
// reason strings of skipped lines.
//
// Lines end at '\n'; one '\r' right before it (or before the end of the
// text) is dropped; the last line needs no '\n'. Blank, whitespace-only and
// '#' lines are ignored. Malformed lines: see ParseOptions.
//
// Returns kInvalidArgument only in strict mode; otherwise always a table.
absl::StatusOr<MountTable> ParseMountInfo(absl::string_view text,
                                          const ParseOptions& options = {});
absl::StatusOr<MountTable> ParseMountInfo(std::string&& text,
                                          const ParseOptions& options = {});
inline absl::StatusOr<MountTable> ParseMountInfo(
    const char* text, const ParseOptions& options = {}) {
  return ParseMountInfo(absl::string_view(text), options);
}

// Parses exactly one entry line (a trailing "\n" or "\r\n" is allowed).
// kInvalidArgument when the line is malformed (message as in strict mode,
// "line 1"), blank, a comment, or holds more than one line.
absl::StatusOr<MountInfo> ParseMountInfoLine(absl::string_view line);

// Decodes the kernel's octal escapes in `s` as described at the top of this
// file. Exposed for tests and tools.
std::string DecodeMountInfoEscapes(absl::string_view s);

// Escapes `s` the way the kernel's mangle() does (space, tab, newline,
// backslash and '#' as `\NNN`) and additionally '\r' and every other byte
// below 0x20, so that DecodeMountInfoEscapes(EncodeMountInfoEscapes(s)) == s
// for every s without a NUL byte.
std::string EncodeMountInfoEscapes(absl::string_view s);

// Renders an entry back as one kernel-format line (no trailing newline):
// single spaces, every string field escaped with EncodeMountInfoEscapes
// (super options keep raw spaces, since they are the rest of the line;
// an optional field that would read "-" is written `\055`).
// ParseMountInfoLine(FormatMountInfoLine(e)) yields e again.
std::string FormatMountInfoLine(const MountInfo& e);

// ---- I/O -----------------------------------------------------------------

// The default bound on the bytes read from one mountinfo file: 256 MiB.
// A 100 000-mount table (the kernel's default mount-max) is about 60 MB.
inline constexpr size_t kDefaultMaxMountInfoSize = size_t{256} << 20;

struct ReadOptions {
  ParseOptions parse;
  // The first read(2) asks for this many bytes; the buffer doubles while the
  // file is longer. Regular files are sized with fstat(2) first.
  size_t initial_buffer_size = 128 * 1024;
  // At most this many bytes are read. A regular file whose fstat(2) size is
  // larger fails before anything is allocated; any other input (procfs, a
  // pipe) fails as soon as it delivers one byte more. Either way: Stage::kRead,
  // errno EFBIG, kOutOfRange, and the message names the bound. The buffer
  // never grows past max_size + 1 bytes.
  size_t max_size = kDefaultMaxMountInfoSize;
};

// Reads and parses the calling THREAD's mount table,
// /proc/thread-self/mountinfo: correct on any thread, including an nsexec
// worker that has setns'd into another mount namespace (/proc/self would
// name the thread-group leader's namespace).
//
// Syscalls: open(2) (O_RDONLY|O_CLOEXEC|O_NOCTTY), fstat(2), read(2) until
// it returns 0, close(2); for buffers of 4 MiB and more also
// madvise(MADV_HUGEPAGE) (a hint; failure ignored). procfs serves mountinfo at
// most one page per read(2) (seq_file), so a table is read in several calls;
// since Linux 5.8 the kernel keeps a cursor in the namespace's mount list
// between calls so concurrent mounts/unmounts cannot make it skip unrelated
// entries (see docs/mountinfo.md, moby/sys#161). No capability is needed.
//
// Errors carry an OpError payload (operation "read_mountinfo", stage
// Stage::kRead, the errno, the path as value): ENOENT → kNotFound, EACCES →
// kPermissionDenied, ... (ErrnoToStatusCode). In strict mode a malformed
// line gives kInvalidArgument, message prefixed with the path.
//
// Hostile input: the file is opened with O_NONBLOCK (a FIFO without a writer
// must not block the open; the flag is cleared right after), then checked
// with fstat(2). A character or block device or a socket (/dev/zero,
// /dev/urandom, a tty) → kInvalidArgument, Stage::kBadArgument, before any
// read. A FIFO or pipe is read until EOF (one with no writer reads as empty)
// within ReadOptions::max_size; so is every regular and procfs file. Bounds
// on the parse: ParseOptions. Nothing here throws; allocation failure of
// the bounded buffer is the only way to std::bad_alloc.
// Thread-safe.
absl::StatusOr<MountTable> ReadMountInfo(const ReadOptions& options = {});

// The mount table of process `pid`, /proc/<pid>/mountinfo, read without
// entering its namespace (ptrace-read access to the process is required:
// EACCES → kPermissionDenied). pid <= 0 → kInvalidArgument; a pid that does
// not exist → kNotFound. Otherwise as ReadMountInfo().
absl::StatusOr<MountTable> ReadMountInfoOfPid(pid_t pid,
                                              const ReadOptions& options = {});

// The mount table in the file at `path` (a saved copy, a test fixture, or
// any /proc path). An empty path or one holding a NUL byte →
// kInvalidArgument (Stage::kBadArgument). Otherwise as ReadMountInfo().
absl::StatusOr<MountTable> ReadMountInfoFile(absl::string_view path,
                                             const ReadOptions& options = {});

// The raw bytes of the file at `path`, read as described for ReadMountInfo
// (at most `max_size` bytes, see ReadOptions). Same errors as
// ReadMountInfoFile, without parsing.
absl::StatusOr<std::string> ReadMountInfoText(
    absl::string_view path, size_t initial_buffer_size = 128 * 1024,
    size_t max_size = kDefaultMaxMountInfoSize);

}  // namespace linx

#endif  // LINX_MOUNTINFO_MOUNTINFO_H_
