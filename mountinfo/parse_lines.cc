// The mountinfo line grammar and the loop over a table's lines
// (MountTable::ParseArena): the hot path of ParseMountInfo, kept in one
// translation unit so the line parser inlines into the loop. The table's
// API (ParseMountInfo, Reparse) and the text forms are mountinfo.cc.
#include <algorithm>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "mountinfo/internal/huge_pages.h"
#include "mountinfo/internal/parse_lines.h"
#include "mountinfo/mountinfo.h"

namespace linx {
namespace mountinfo_internal {
namespace {

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

// Advances `q` to the first byte that may be special: unsigned <= 0x20 or
// a backslash (every special byte — space, tab, '\n', '\r', NUL, '\\' — is
// one of those). SSE2 tests 16 bytes at a time; the caller settles the
// rare candidate of class 0 (another control byte) with the class table it
// reads anyway. The 16-byte loads stay below `limit`, the end of the text,
// which ends in a stop byte ('\n', or the arena's terminating NUL) for the
// byte loop.
inline char* SkipToCandidate(char* q, const char* limit) {
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i backslash = _mm_set1_epi8('\\');
  while (limit - q >= 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, space), v);
    __m128i hit = _mm_or_si128(low, _mm_cmpeq_epi8(v, backslash));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) return q + __builtin_ctz(mask);
    q += 16;
  }
#endif
  while (static_cast<unsigned char>(*q) > 0x20 && *q != '\\') ++q;
  return q;
}
inline bool IsOctal(char c) { return c >= '0' && c <= '7'; }

// Decodes `\NNN` in place; returns the new length. Only `\` + exactly three
// octal digits with a value in 1..255 is an escape (see mountinfo.h).
}  // namespace

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

namespace {

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

// Where a line ends: at '\n', at "\r\n" (the '\r' is dropped), or at the
// end of the text (`end`, the arena's terminating NUL), where a lone '\r'
// is dropped too. Every line-end byte is a SkipToCandidate stop.
inline bool AtLineEnd(const char* q, const char* end) {
  return *q == '\n' || q == end ||
         (*q == '\r' && (q[1] == '\n' || q + 1 == end));
}

// Advances past the rest of a line from `q`: returns the start of the next
// line (or `end`). For skipped lines (blank, comment, malformed).
inline char* NextLine(char* q, char* end) {
  char* nl = static_cast<char*>(std::memchr(q, '\n', end - q));
  return nl ? nl + 1 : end;
}

// Parses one line starting at `b` (not blank, not a comment) in place, up
// to its end (AtLineEnd), which it finds itself: every scan stops at the
// line-end bytes, so the line is read once. On success fills *m
// (optional_fields left empty; their views are appended to *opts and
// counted in *nopts). Sets *far to how far its scans got: the line end on
// success.
bool ParseLineBody(char* b, char* end, MountEntry* m,
                   std::vector<absl::string_view>* opts, size_t* nopts,
                   char** far, LineError* err) {
  char* p = b;
  bool padded = false;
  // Leading blanks are column padding.
  if (IsSep(*p)) {
    padded = true;
    while (IsSep(*p)) ++p;
  }

  // Scans the token starting at p; returns its end and whether it has a
  // backslash. NUL (but the text's end) → error.
  auto scan = [&](MountInfoField f, char** tok_end, bool* has_bs)
                  ABSL_ATTRIBUTE_ALWAYS_INLINE -> bool {
    // No bounds check per byte: the text ends at the arena's terminating
    // NUL, a stop byte.
    char* q = p;
    bool bs = false;
    for (;;) {
      q = SkipToCandidate(q, end);
      unsigned char cls = kClasses.c[static_cast<unsigned char>(*q)];
      if (cls == 0) {  // another control byte: part of the token
        ++q;
        continue;
      }
      if (cls == 1) break;
      if (cls == 4) {
        if (AtLineEnd(q, end)) break;
        ++q;  // a '\r' inside the line
        continue;
      }
      if (cls == 3) {
        if (q == end) break;
        *far = q;
        err->field = f;
        err->reason = "contains a NUL byte";
        return false;
      }
      bs = true;  // cls 2, a backslash
      ++q;
    }
    *far = q;
    *tok_end = q;
    *has_bs = bs;
    return true;
  };
  // Skips the separator after a token. In kernel format exactly one space;
  // a longer run or a tab marks the line as padded (accepted).
  auto skip_sep = [&]() ABSL_ATTRIBUTE_ALWAYS_INLINE {
    char* s = p;
    while (IsSep(*p)) ++p;
    if (p - s != 1 || *s != ' ') padded = true;
  };
  auto missing = [&](MountInfoField f) {
    err->field = f;
    err->reason = "missing";
    return false;
  };
  auto finish_string = [&](char* tb, char* te, bool bs)
                           ABSL_ATTRIBUTE_ALWAYS_INLINE {
                             size_t n = static_cast<size_t>(te - tb);
                             if (bs) n = DecodeInPlace(tb, n);
                             return absl::string_view(tb, n);
                           };
  auto at_end = [&]()
                    ABSL_ATTRIBUTE_ALWAYS_INLINE { return AtLineEnd(p, end); };

  char* te;
  bool bs;
  uint64_t v;

  // Fields 1-3 as the kernel prints them, "ID PARENT MAJ:MIN ", each at
  // most 9 digits (below every bound, so no range check): read in one go.
  // Anything else takes the general path, which gives the same values and
  // the errors.
  bool fast = false;
  if (!padded) {
    auto digits = [](char** q, uint64_t* v) ABSL_ATTRIBUTE_ALWAYS_INLINE {
      char* s = *q;
      uint64_t x = 0;
      while (static_cast<unsigned char>(**q - '0') <= 9 && *q - s < 9) {
        x = x * 10 + static_cast<unsigned>(**q - '0');
        ++*q;
      }
      *v = x;
      return *q > s;
    };
    char* q = p;
    uint64_t id, parent, maj, min;
    if (digits(&q, &id) && *q == ' ' && (++q, digits(&q, &parent)) &&
        *q == ' ' && (++q, digits(&q, &maj)) && *q == ':' &&
        (++q, digits(&q, &min)) && *q == ' ') {
      m->id = static_cast<int32_t>(id);
      m->parent_id = static_cast<int32_t>(parent);
      m->major = static_cast<uint32_t>(maj);
      m->minor = static_cast<uint32_t>(min);
      p = q;
      *far = q;
      skip_sep();
      fast = true;
    }
  }
  if (!fast) {
    // (1) mount ID, (2) parent ID.
    for (MountInfoField f :
         {MountInfoField::kMountId, MountInfoField::kParentId}) {
      if (at_end()) return missing(f);
      if (!scan(f, &te, &bs)) return false;
      NumResult r = ParseDecimal(p, te, 0x7fffffff, &v);
      if (r != NumResult::kOk) {
        err->field = f;
        err->reason =
            absl::StrCat(r == NumResult::kRange ? "out of range: " : "", "got ",
                         Quote(p, te));
        return false;
      }
      (f == MountInfoField::kMountId ? m->id : m->parent_id) =
          static_cast<int32_t>(v);
      p = te;
      skip_sep();
    }

    // (3) major:minor.
    if (at_end()) return missing(MountInfoField::kMajorMinor);
    if (!scan(MountInfoField::kMajorMinor, &te, &bs)) return false;
    {
      char* colon = p;
      while (colon < te && *colon != ':') ++colon;
      if (colon == te) colon = nullptr;
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
  }

  // (4) root, (5) mount point, (6) mount options.
  absl::string_view* strs[] = {&m->root, &m->target, &m->vfs_options};
  MountInfoField sfields[] = {MountInfoField::kRoot,
                              MountInfoField::kMountPoint,
                              MountInfoField::kMountOptions};
  for (int i = 0; i < 3; ++i) {
    if (at_end()) return missing(sfields[i]);
    if (!scan(sfields[i], &te, &bs)) return false;
    *strs[i] = finish_string(p, te, bs);
    p = te;
    skip_sep();
  }

  // (7) optional fields, up to the (8) "-" separator token.
  size_t count = 0;
  for (;;) {
    if (at_end()) {
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
  auto tail_sep = [&]() ABSL_ATTRIBUTE_ALWAYS_INLINE {
    if (padded) {
      while (IsSep(*p)) ++p;
    } else {
      ++p;
    }
  };
  if (at_end()) return missing(MountInfoField::kFsType);
  tail_sep();
  if (at_end() || IsSep(*p)) {
    err->field = MountInfoField::kFsType;
    err->reason = at_end() ? "missing" : "empty";
    return false;
  }
  if (!scan(MountInfoField::kFsType, &te, &bs)) return false;
  m->fstype = finish_string(p, te, bs);
  p = te;
  if (at_end()) return missing(MountInfoField::kSource);
  tail_sep();
  if (at_end()) return missing(MountInfoField::kSource);
  if (!scan(MountInfoField::kSource, &te, &bs)) return false;
  char* sb = p;
  p = te;
  if (at_end()) return missing(MountInfoField::kSuperOptions);
  m->source = finish_string(sb, te, bs);
  // The kernel always starts the super options with "rw" or "ro": blanks
  // before them are padding, and blanks alone are no super options.
  while (IsSep(*p)) ++p;
  if (at_end()) return missing(MountInfoField::kSuperOptions);
  // (11) is the rest of the line, raw blanks included. It is the longest
  // field (overlay layer lists run to kilobytes) and holds no separator, so
  // it is searched with memchr, which runs 32 or 64 bytes a step (AVX2 /
  // EVEX in glibc) where the token scanner stops every 16: one pass for the
  // line end, one for NUL, and one for a backslash when decoding.
  *far = p;
  char* nl = static_cast<char*>(std::memchr(p, '\n', end - p));
  char* le = nl != nullptr ? nl : end;
  char* q = le;
  if (q[-1] == '\r') --q;  // q > p: the field is not blank here
  if (std::memchr(p, '\0', q - p) != nullptr) {
    err->field = MountInfoField::kSuperOptions;
    err->reason = "contains a NUL byte";
    return false;
  }
  m->fs_options = absl::string_view(p, DecodeInPlace(p, q - p));
  *far = le;
  return true;
}

// ParseLineBody, and where the next line starts (success or not). On
// success the body stopped at the line end; on failure the search for it
// resumes from where the scans got, past every byte decoded in place (an
// "\012" decodes to a '\n').
bool ParseLine(char* b, char* end, MountEntry* m,
               std::vector<absl::string_view>* opts, size_t* nopts, char** next,
               LineError* err) {
  char* q = b;
  bool ok = ParseLineBody(b, end, m, opts, nopts, &q, err);
  if (!ok) {
    *next = NextLine(q, end);
  } else if (q == end) {
    *next = end;
  } else if (*q == '\n') {
    *next = q + 1;
  } else {  // '\r' before '\n' or before the end
    *next = q + 1 == end ? end : q + 2;
  }
  return ok;
}

}  // namespace
}  // namespace mountinfo_internal

using mountinfo_internal::AtLineEnd;
using mountinfo_internal::IsSep;
using mountinfo_internal::LineError;
using mountinfo_internal::NextLine;
using mountinfo_internal::ParseLine;

absl::Status MountTable::ParseArena(const ParseOptions& options, size_t lines) {
  entries_.clear();
  optional_fields_.clear();
  skipped_.clear();
  opt_ranges_.clear();
  std::string& buf = *arena_;
  if (buf.empty()) return absl::OkStatus();
  // The vectors are sized once from the line count (memchr is vectorized;
  // a copying caller counted while copying). A reused table (Reparse)
  // keeps the vectors it has and lets them grow.
  if (lines == kUncounted) lines = 0;
  if (lines == kCount) {
    lines = 0;
    for (const char *c = buf.data(), *ce = c + buf.size();
         (c = static_cast<const char*>(std::memchr(c, '\n', ce - c))) !=
         nullptr;
         ++c) {
      ++lines;
    }
  }
  // Blank lines count too, so never reserve past the entry bound: a text of
  // newlines alone must not allocate an entry per byte.
  size_t want = std::min(lines + 1, options.max_entries + 1);
  if (entries_.capacity() < want) {
    bool fresh = entries_.capacity() == 0;
    entries_.reserve(want);
    optional_fields_.reserve(want);
    opt_ranges_.reserve(want);
    if (fresh) {
      mountinfo_internal::AdviseHugePages(
          entries_.data(), entries_.capacity() * sizeof(MountEntry));
    }
  }

  char* p = &buf[0];
  char* const end = p + buf.size();
  uint64_t line = 0;
  LineError err;
  while (p < end) {
    ++line;
    // Blank, whitespace-only and comment lines are not entries.
    char* q = p;
    while (IsSep(*q)) ++q;
    if (AtLineEnd(q, end)) {
      p = NextLine(q, end);
      continue;
    }
    if (*q == '#') {
      p = NextLine(q, end);
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
    char* next = nullptr;
    if (ParseLine(p, end, &m, &optional_fields_, &nopts, &next, &err)) {
      opt_ranges_.emplace_back(first_opt, nopts);
      p = next;
      continue;
    }
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
    SkippedLine sk;
    sk.line = line;
    sk.field = err.field;
    sk.field_name = MountInfoFieldName(err.field);
    sk.reason = std::move(err.reason);
    skipped_.push_back(std::move(sk));
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

}  // namespace linx
