#include "mountinfo/mountinfo.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "mountinfo/internal/huge_pages.h"
#include "mountinfo/internal/octal.h"
#include "mountinfo/internal/parse_lines.h"

namespace linx {
namespace {

constexpr const char* kFieldNames[] = {
    "line",      "mount ID",        "parent ID",     "major:minor",
    "root",      "mount point",     "mount options", "optional fields",
    "separator", "filesystem type", "mount source",  "super options",
};

}  // namespace

const char* MountInfoFieldName(MountInfoField field) {
  int i = static_cast<int>(field);
  return (i >= 0 && i <= 11) ? kFieldNames[i] : "unknown";
}

MountInfo::MountInfo(const MountEntry& e)
    : id(e.id),
      parent_id(e.parent_id),
      major(e.major),
      minor(e.minor),
      root(e.root),
      target(e.target),
      vfs_options(e.vfs_options),
      optional_fields(e.optional_fields.begin(), e.optional_fields.end()),
      shared(e.shared),
      master(e.master),
      propagate_from(e.propagate_from),
      unbindable(e.unbindable),
      fstype(e.fstype),
      source(e.source),
      fs_options(e.fs_options) {}

bool operator==(const MountInfo& a, const MountInfo& b) {
  return a.id == b.id && a.parent_id == b.parent_id && a.major == b.major &&
         a.minor == b.minor && a.root == b.root && a.target == b.target &&
         a.vfs_options == b.vfs_options &&
         a.optional_fields == b.optional_fields && a.shared == b.shared &&
         a.master == b.master && a.propagate_from == b.propagate_from &&
         a.unbindable == b.unbindable && a.fstype == b.fstype &&
         a.source == b.source && a.fs_options == b.fs_options;
}

MountTable::MountTable() = default;
MountTable::MountTable(MountTable&&) noexcept = default;
MountTable& MountTable::operator=(MountTable&&) noexcept = default;
MountTable::~MountTable() = default;

std::vector<MountInfo> MountTable::ToMountInfos() const {
  return std::vector<MountInfo>(entries_.begin(), entries_.end());
}

namespace {

// Copies `text` to the end of `*arena` (capacity reserved) 64 KiB at a
// time, counting the '\n' of each piece while it is still in the cache:
// one pass over the input instead of a copy and then a count.
size_t AppendCountingLines(std::string* arena, absl::string_view text) {
  constexpr size_t kPiece = 64 << 10;
  size_t lines = 0;
  for (size_t off = 0; off < text.size(); off += kPiece) {
    size_t n = std::min(kPiece, text.size() - off);
    size_t at = arena->size();
    arena->append(text.data() + off, n);
    const char* c = arena->data() + at;
    const char* ce = c + n;
    while ((c = static_cast<const char*>(std::memchr(c, '\n', ce - c))) !=
           nullptr) {
      ++lines;
      ++c;
    }
  }
  return lines;
}

}  // namespace

absl::StatusOr<MountTable> ParseMountInfo(absl::string_view text,
                                          const ParseOptions& options) {
  auto arena = std::make_unique<std::string>();
  arena->reserve(text.size());
  mountinfo_internal::AdviseHugePages(arena->data(), arena->capacity());
  size_t lines = AppendCountingLines(arena.get(), text);
  MountTable t;
  t.arena_ = std::move(arena);
  absl::Status s = t.ParseArena(options, lines);
  if (!s.ok()) return s;
  return t;
}

absl::StatusOr<MountTable> ParseMountInfo(std::string&& text,
                                          const ParseOptions& options) {
  MountTable t;
  t.arena_ = std::make_unique<std::string>(std::move(text));
  absl::Status s = t.ParseArena(options, MountTable::kCount);
  if (!s.ok()) return s;
  return t;
}

absl::Status MountTable::Reparse(absl::string_view text,
                                 const ParseOptions& options) {
  if (arena_ == nullptr) arena_ = std::make_unique<std::string>();
  arena_->assign(text.data(), text.size());
  // A table that held entries before keeps its vectors and lets them grow
  // (amortized) instead of counting lines: re-reads are of similar size.
  absl::Status s =
      ParseArena(options, entries_.capacity() != 0 ? kUncounted : kCount);
  if (!s.ok()) {
    arena_->clear();
    entries_.clear();
    optional_fields_.clear();
    skipped_.clear();
  }
  return s;
}

absl::StatusOr<MountInfo> ParseMountInfoLine(absl::string_view line) {
  absl::string_view body = line;
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  if (body.find('\n') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "mountinfo line: holds more than one line");
  }
  ParseOptions strict;
  strict.strict = true;
  absl::StatusOr<MountTable> t = ParseMountInfo(body, strict);
  if (!t.ok()) return t.status();
  if (t->size() != 1) {
    return absl::InvalidArgumentError(
        "mountinfo line 1: blank or comment, not an entry");
  }
  return MountInfo((*t)[0]);
}

std::string DecodeMountInfoEscapes(absl::string_view s) {
  std::string out(s);
  if (!out.empty())
    out.resize(mountinfo_internal::DecodeInPlace(&out[0], out.size()));
  return out;
}

std::string EncodeMountInfoEscapes(absl::string_view s) {
  return internal::OctalEscape(s, [](unsigned char u) {
    return u < 0x20 || u == ' ' || u == '\\' || u == '#';
  });
}

std::string FormatMountInfoLine(const MountInfo& e) {
  std::string out = absl::StrCat(e.id, " ", e.parent_id, " ", e.major, ":",
                                 e.minor, " ", EncodeMountInfoEscapes(e.root),
                                 " ", EncodeMountInfoEscapes(e.target), " ",
                                 EncodeMountInfoEscapes(e.vfs_options));
  for (const std::string& f : e.optional_fields) {
    out.push_back(' ');
    out += f == "-" ? "\\055" : EncodeMountInfoEscapes(f);
  }
  absl::StrAppend(&out, " - ", EncodeMountInfoEscapes(e.fstype), " ",
                  EncodeMountInfoEscapes(e.source), " ");
  // Super options are the rest of the line, so blanks may stay raw; only
  // what would end the line (or be dropped with it) is escaped.
  for (size_t i = 0; i < e.fs_options.size(); ++i) {
    char c = e.fs_options[i];
    unsigned char u = static_cast<unsigned char>(c);
    // A leading blank would read as padding (found by the parse fuzzer).
    if (c == '\\' || c == '\n' || c == '\r' || u == 0 ||
        (i == 0 && (c == ' ' || c == '\t'))) {
      absl::StrAppend(&out, "\\",
                      absl::string_view(&"01234567"[(u >> 6) & 7], 1),
                      absl::string_view(&"01234567"[(u >> 3) & 7], 1),
                      absl::string_view(&"01234567"[u & 7], 1));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace linx
