#include "mountinfo/mountinfo.h"

#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "mountinfo/internal/huge_pages.h"
#include "mountinfo/internal/octal.h"

namespace linx {
namespace {

constexpr const char* kFieldNames[] = {
    "line",      "mount ID",        "parent ID",     "major:minor",
    "root",      "mount point",     "mount options", "optional fields",
    "separator", "filesystem type", "mount source",  "super options",
};

// Byte classes for the token scanner: 0 ordinary, 1 separator (space, tab),
// 2 backslash (a possible escape), 3 NUL (never valid in a line), 4 line
// end ('\n', and '\r' which ends a line only right before '\n').
struct ByteClasses {
  unsigned char c[256] = {};
  constexpr ByteClasses() {
    c[static_cast<unsigned char>(' ')] = 1;
    c[static_cast<unsigned char>('\t')] = 1;
    c[static_cast<unsigned char>('\\')] = 2;
    c[0] = 3;
    c[static_cast<unsigned char>('\n')] = 4;
    c[static_cast<unsigned char>('\r')] = 4;
  }
};
constexpr ByteClasses kClasses;

inline bool IsSep(char c) { return c == ' ' || c == '\t'; }

// Advances `q` past ordinary bytes (class 0) and returns the first byte of
// another class. Every special byte is <= 0x20 or a backslash, so SSE2
// tests 16 bytes at a time for "unsigned <= 0x20 or '\\'" and lets the
// class table settle the rare false positive (another control byte). The
// 16-byte loads stay below `limit`, the end of the text, which ends in a
// stop byte ('\n', or the arena's terminating NUL) for the byte loop.
inline char* SkipOrdinary(char* q, const char* limit) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i backslash = _mm_set1_epi8('\\');
  while (limit - q >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, space), v);
    __m128i hit = _mm_or_si128(low, _mm_cmpeq_epi8(v, backslash));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    while (mask != 0) {
      char* c = q + __builtin_ctz(mask);
      if (kClasses.c[static_cast<unsigned char>(*c)] != 0) return c;
      mask &= mask - 1;
    }
    q += 16;
  }
#endif
  while (kClasses.c[static_cast<unsigned char>(*q)] == 0) ++q;
  return q;
}
inline bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// Decodes `\NNN` in place; returns the new length. Only `\` + exactly three
// octal digits with a value in 1..255 is an escape (see mountinfo.h).
size_t DecodeInPlace(char* s, size_t n) {
  char* r = static_cast<char*>(std::memchr(s, '\\', n));
  if (r == nullptr) return n;
  char* w = r;
  char* const e = s + n;
  while (r < e) {
    if (*r == '\\' && e - r >= 4 && IsOctal(r[1]) && IsOctal(r[2]) &&
        IsOctal(r[3])) {
      int v = (r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0');
      if (v >= 1 && v <= 255) {
        *w++ = static_cast<char>(v);
        r += 4;
        continue;
      }
    }
    *w++ = *r++;
  }
  return static_cast<size_t>(w - s);
}

// Strict decimal: one or more ASCII digits (leading zeros allowed), no sign,
// no whitespace, value <= max.
enum class NumResult { kOk, kBad, kRange };
inline NumResult ParseDecimal(const char* b, const char* e, uint64_t max,
                              uint64_t* out) {
  if (b == e) return NumResult::kBad;
  uint64_t v = 0;
  for (const char* p = b; p < e; ++p) {
    unsigned d = static_cast<unsigned char>(*p) - '0';
    if (d > 9) return NumResult::kBad;
    v = v * 10 + d;
    if (v > max) {
      // Keep scanning so "99999999999x" is reported as bad, not range.
      for (++p; p < e; ++p) {
        if (static_cast<unsigned>(static_cast<unsigned char>(*p) - '0') > 9) {
          return NumResult::kBad;
        }
      }
      return NumResult::kRange;
    }
  }
  *out = v;
  return NumResult::kOk;
}

// A field for a parse error: quoted as every message quotes (base's Quote),
// cut at 64 bytes.
std::string Quote(const char* b, const char* e) {
  constexpr size_t kMax = 64;
  size_t n = static_cast<size_t>(e - b);
  std::string out = ::linx::Quote(absl::string_view(b, n < kMax ? n : kMax));
  if (n > kMax) absl::StrAppend(&out, "...");
  return out;
}

struct LineError {
  MountInfoField field = MountInfoField::kLine;
  std::string reason;
};

// Parses one line [b, e) (no '\n', trailing '\r' already dropped, not blank,
// not a comment) in place. On success fills *m (optional_fields left empty;
// their views are appended to *opts and counted in *nopts).
bool ParseLine(char* b, char* e, const char* limit, MountEntry* m,
               std::vector<absl::string_view>* opts, size_t* nopts,
               LineError* err) {
  char* p = b;
  bool padded = false;
  // Leading blanks are column padding.
  if (IsSep(*p)) {
    padded = true;
    while (p < e && IsSep(*p)) ++p;
  }

  // Scans the token starting at p; returns its end and whether it has a
  // backslash. NUL → error.
  auto scan = [&](MountInfoField f, char** tok_end, bool* has_bs) -> bool {
    // The scan needs no bounds check per byte: every line ends at a '\n' or
    // at the arena's terminating NUL, both stop bytes.
    char* q = p;
    bool bs = false;
    for (;;) {
      q = SkipOrdinary(q, limit);
      if (q >= e) {
        q = e;
        break;
      }
      unsigned char cls = kClasses.c[static_cast<unsigned char>(*q)];
      if (cls == 1) break;
      if (cls == 3) {
        err->field = f;
        err->reason = "contains a NUL byte";
        return false;
      }
      bs |= cls == 2;  // a backslash; cls 4 is a '\r' inside the line
      ++q;
    }
    *tok_end = q;
    *has_bs = bs;
    return true;
  };
  // Skips the separator after a token. In kernel format exactly one space;
  // a longer run or a tab marks the line as padded (accepted).
  auto skip_sep = [&]() {
    char* s = p;
    while (p < e && IsSep(*p)) ++p;
    if (p - s != 1 || *s != ' ') padded = true;
  };
  auto missing = [&](MountInfoField f) {
    err->field = f;
    err->reason = "missing";
    return false;
  };
  auto finish_string = [&](char* tb, char* te, bool bs) {
    size_t n = static_cast<size_t>(te - tb);
    if (bs) n = DecodeInPlace(tb, n);
    return absl::string_view(tb, n);
  };

  char* te;
  bool bs;
  uint64_t v;

  // (1) mount ID, (2) parent ID.
  for (MountInfoField f :
       {MountInfoField::kMountId, MountInfoField::kParentId}) {
    if (p == e) return missing(f);
    if (!scan(f, &te, &bs)) return false;
    NumResult r = ParseDecimal(p, te, 0x7fffffff, &v);
    if (r != NumResult::kOk) {
      err->field = f;
      err->reason = absl::StrCat(r == NumResult::kRange ? "out of range: " : "",
                                 "got ", Quote(p, te));
      return false;
    }
    (f == MountInfoField::kMountId ? m->id : m->parent_id) =
        static_cast<int32_t>(v);
    p = te;
    skip_sep();
  }

  // (3) major:minor.
  if (p == e) return missing(MountInfoField::kMajorMinor);
  if (!scan(MountInfoField::kMajorMinor, &te, &bs)) return false;
  {
    char* colon = static_cast<char*>(std::memchr(p, ':', te - p));
    uint64_t maj = 0, min = 0;
    NumResult r1 =
        colon ? ParseDecimal(p, colon, 0xffffffffu, &maj) : NumResult::kBad;
    NumResult r2 = colon ? ParseDecimal(colon + 1, te, 0xffffffffu, &min)
                         : NumResult::kBad;
    if (r1 != NumResult::kOk || r2 != NumResult::kOk) {
      err->field = MountInfoField::kMajorMinor;
      bool range = (r1 == NumResult::kRange && r2 != NumResult::kBad) ||
                   (r2 == NumResult::kRange && r1 != NumResult::kBad);
      err->reason =
          absl::StrCat(range ? "out of range: " : "", "got ", Quote(p, te));
      return false;
    }
    m->major = static_cast<uint32_t>(maj);
    m->minor = static_cast<uint32_t>(min);
  }
  p = te;
  skip_sep();

  // (4) root, (5) mount point, (6) mount options.
  absl::string_view* strs[] = {&m->root, &m->target, &m->vfs_options};
  MountInfoField sfields[] = {MountInfoField::kRoot,
                              MountInfoField::kMountPoint,
                              MountInfoField::kMountOptions};
  for (int i = 0; i < 3; ++i) {
    if (p == e) return missing(sfields[i]);
    if (!scan(sfields[i], &te, &bs)) return false;
    *strs[i] = finish_string(p, te, bs);
    p = te;
    skip_sep();
  }

  // (7) optional fields, up to the (8) "-" separator token.
  size_t count = 0;
  for (;;) {
    if (p == e) {
      err->field = MountInfoField::kSeparator;
      err->reason = "missing (no \" - \" after the optional fields)";
      return false;
    }
    if (!scan(MountInfoField::kOptionalFields, &te, &bs)) return false;
    if (te - p == 1 && *p == '-') {
      p = te;
      break;
    }
    absl::string_view tok = finish_string(p, te, bs);
    // Typed tags. A known tag with a bad or repeated value is malformed: the
    // kernel never prints one, and guessing would misreport propagation.
    std::optional<uint32_t>* slot = nullptr;
    size_t plen = 0;
    if (tok.size() > 7 && std::memcmp(tok.data(), "shared:", 7) == 0) {
      slot = &m->shared;
      plen = 7;
    } else if (tok.size() > 7 && std::memcmp(tok.data(), "master:", 7) == 0) {
      slot = &m->master;
      plen = 7;
    } else if (tok.size() > 15 &&
               std::memcmp(tok.data(), "propagate_from:", 15) == 0) {
      slot = &m->propagate_from;
      plen = 15;
    } else if (tok == "unbindable") {
      if (m->unbindable) {
        err->field = MountInfoField::kOptionalFields;
        err->reason = "repeated \"unbindable\"";
        return false;
      }
      m->unbindable = true;
    } else if (tok == "shared:" || tok == "master:" ||
               tok == "propagate_from:") {
      err->field = MountInfoField::kOptionalFields;
      err->reason =
          absl::StrCat("got ", Quote(tok.data(), tok.data() + tok.size()));
      return false;
    }
    if (slot != nullptr) {
      NumResult r = ParseDecimal(tok.data() + plen, tok.data() + tok.size(),
                                 0xffffffffu, &v);
      if (r != NumResult::kOk || slot->has_value()) {
        err->field = MountInfoField::kOptionalFields;
        err->reason =
            absl::StrCat(slot->has_value()
                             ? "repeated tag: "
                             : (r == NumResult::kRange ? "out of range: " : ""),
                         "got ", Quote(tok.data(), tok.data() + tok.size()));
        return false;
      }
      *slot = static_cast<uint32_t>(v);
    }
    if (count == kMaxOptionalFieldsPerLine) {
      err->field = MountInfoField::kOptionalFields;
      err->reason = absl::StrCat("more than ", kMaxOptionalFieldsPerLine,
                                 " optional fields");
      return false;
    }
    opts->push_back(tok);
    ++count;
    p = te;
    skip_sep();
  }
  *nopts = count;

  // After "-": (9) fstype, (10) source, (11) super options. In kernel format
  // each is separated by exactly one space and the source may be empty
  // ("tmpfs  rw"); on a padded line runs of blanks separate and the source
  // cannot be empty.
  auto tail_sep = [&]() {
    if (padded) {
      while (p < e && IsSep(*p)) ++p;
    } else {
      ++p;
    }
  };
  if (p == e) return missing(MountInfoField::kFsType);
  tail_sep();
  if (p == e || IsSep(*p)) {
    err->field = MountInfoField::kFsType;
    err->reason = p == e ? "missing" : "empty";
    return false;
  }
  if (!scan(MountInfoField::kFsType, &te, &bs)) return false;
  m->fstype = finish_string(p, te, bs);
  p = te;
  if (p == e) return missing(MountInfoField::kSource);
  tail_sep();
  if (p == e) return missing(MountInfoField::kSource);
  if (!scan(MountInfoField::kSource, &te, &bs)) return false;
  char* sb = p;
  p = te;
  if (p == e) return missing(MountInfoField::kSuperOptions);
  m->source = finish_string(sb, te, bs);
  // The kernel always starts the super options with "rw" or "ro": blanks
  // before them are padding, and blanks alone are no super options.
  while (p < e && IsSep(*p)) ++p;
  if (p == e) return missing(MountInfoField::kSuperOptions);
  // (11) is the rest of the line, raw blanks included.
  size_t n = static_cast<size_t>(e - p);
  if (std::memchr(p, '\0', n) != nullptr) {
    err->field = MountInfoField::kSuperOptions;
    err->reason = "contains a NUL byte";
    return false;
  }
  m->fs_options = absl::string_view(p, DecodeInPlace(p, n));
  return true;
}

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

absl::StatusOr<MountTable> ParseMountInfo(absl::string_view text,
                                          const ParseOptions& options) {
  std::string arena;
  arena.reserve(text.size());
  mountinfo_internal::AdviseHugePages(arena.data(), arena.capacity());
  arena.append(text.data(), text.size());
  return ParseMountInfo(std::move(arena), options);
}

absl::StatusOr<MountTable> ParseMountInfo(std::string&& text,
                                          const ParseOptions& options) {
  MountTable t;
  t.arena_ = std::make_unique<std::string>(std::move(text));
  absl::Status s = t.ParseArena(options);
  if (!s.ok()) return s;
  return t;
}

absl::Status MountTable::Reparse(absl::string_view text,
                                 const ParseOptions& options) {
  if (arena_ == nullptr) arena_ = std::make_unique<std::string>();
  arena_->assign(text.data(), text.size());
  absl::Status s = ParseArena(options);
  if (!s.ok()) {
    arena_->clear();
    entries_.clear();
    optional_fields_.clear();
    skipped_.clear();
  }
  return s;
}

absl::Status MountTable::ParseArena(const ParseOptions& options) {
  entries_.clear();
  optional_fields_.clear();
  skipped_.clear();
  opt_ranges_.clear();
  std::string& buf = *arena_;
  if (buf.empty()) return absl::OkStatus();
  // A fresh table counts the lines (memchr is vectorized) to size the
  // vectors once. A reused one (Reparse) skips that pass over the text: its
  // vectors kept the capacity of the previous table, and grow (amortized)
  // only for a larger one.
  if (entries_.capacity() == 0) {
    size_t lines = 1;
    for (const char *c = buf.data(), *ce = c + buf.size();
         (c = static_cast<const char*>(std::memchr(c, '\n', ce - c))) !=
         nullptr;
         ++c) {
      ++lines;
    }
    // Blank lines count too, so never reserve past the entry bound: a text
    // of newlines alone must not allocate an entry per byte.
    lines = std::min(lines, options.max_entries + 1);
    entries_.reserve(lines);
    optional_fields_.reserve(lines);
    opt_ranges_.reserve(lines);
    mountinfo_internal::AdviseHugePages(
        entries_.data(), entries_.capacity() * sizeof(MountEntry));
  }

  char* p = &buf[0];
  char* const end = p + buf.size();
  uint64_t line = 0;
  LineError err;
  while (p < end) {
    ++line;
    char* nl = static_cast<char*>(std::memchr(p, '\n', end - p));
    char* le = nl ? nl : end;
    char* next = nl ? nl + 1 : end;
    if (le > p && le[-1] == '\r') --le;
    // Blank, whitespace-only and comment lines are not entries.
    char* q = p;
    while (q < le && IsSep(*q)) ++q;
    if (q == le || *q == '#') {
      p = next;
      continue;
    }
    if (entries_.size() == options.max_entries) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "mountinfo line ", line, ": more than ", options.max_entries,
          " entries (ParseOptions::max_entries)"));
    }
    MountEntry& m = entries_.emplace_back();
    size_t first_opt = optional_fields_.size();
    size_t nopts = 0;
    if (ParseLine(p, le, end, &m, &optional_fields_, &nopts, &err)) {
      opt_ranges_.emplace_back(first_opt, nopts);
    } else {
      entries_.pop_back();
      optional_fields_.resize(first_opt);
      if (options.strict) {
        return absl::InvalidArgumentError(absl::StrCat(
            "mountinfo line ", line, ", field ", static_cast<int>(err.field),
            " (", MountInfoFieldName(err.field), "): ", err.reason));
      }
      if (skipped_.size() == options.max_skipped) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "mountinfo line ", line, ": more than ", options.max_skipped,
            " malformed lines (ParseOptions::max_skipped); not a mountinfo "
            "file?"));
      }
      SkippedLine s;
      s.line = line;
      s.field = err.field;
      s.field_name = MountInfoFieldName(err.field);
      s.reason = std::move(err.reason);
      skipped_.push_back(std::move(s));
    }
    p = next;
  }
  // The optional-field vector is final now: point the spans into it.
  const absl::string_view* base = optional_fields_.data();
  for (size_t i = 0; i < entries_.size(); ++i) {
    entries_[i].optional_fields = absl::Span<const absl::string_view>(
        base + opt_ranges_[i].first, opt_ranges_[i].second);
  }
  return absl::OkStatus();
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
  if (!out.empty()) out.resize(DecodeInPlace(&out[0], out.size()));
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
