#include "mountinfo/format.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "mountinfo/internal/octal.h"

namespace linx {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// 1 for bytes that need more than a plain copy inside a JSON string.
struct JsonClasses {
  unsigned char c[256] = {};
  constexpr JsonClasses() {
    for (int i = 0; i < 0x20; ++i) c[i] = 1;
    for (int i = 0x80; i < 0x100; ++i) c[i] = 1;
    c[static_cast<unsigned char>('"')] = 1;
    c[static_cast<unsigned char>('\\')] = 1;
  }
};
constexpr JsonClasses kJson;

void AppendUint(uint64_t v, std::string* out) {
  char buf[24];
  char* e = buf + sizeof(buf);
  char* b = e;
  do {
    *--b = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out->append(b, e);
}

void AppendInt(int64_t v, std::string* out) {
  if (v < 0) {
    out->push_back('-');
    AppendUint(static_cast<uint64_t>(-(v + 1)) + 1, out);
  } else {
    AppendUint(static_cast<uint64_t>(v), out);
  }
}

void AppendOptional(const std::optional<uint32_t>& v, std::string* out) {
  if (v.has_value()) {
    AppendUint(*v, out);
  } else {
    out->append("null");
  }
}

// Octal-escapes what would break a text table; keeps UTF-8 as is.
std::string TableCell(absl::string_view s) {
  return internal::OctalEscape(
      s, [](unsigned char u) { return u <= 0x20 || u == '\\' || u == 0x7f; });
}

// Display width: UTF-8 continuation bytes take no column (good enough for
// alignment; wide CJK glyphs are not measured).
size_t Width(absl::string_view s) {
  size_t w = 0;
  for (char c : s) w += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return w;
}

// One mount as a JSON object; M is MountEntry (views) or MountInfo (owned):
// both name their fields alike.
template <typename M>
void AppendMountJsonImpl(const M& m, std::string* out) {
  out->append("{\"id\": ");
  AppendInt(m.id, out);
  out->append(", \"parent_id\": ");
  AppendInt(m.parent_id, out);
  out->append(", \"major\": ");
  AppendUint(m.major, out);
  out->append(", \"minor\": ");
  AppendUint(m.minor, out);
  out->append(", \"root\": ");
  AppendJsonString(m.root, out);
  out->append(", \"target\": ");
  AppendJsonString(m.target, out);
  out->append(", \"vfs_options\": ");
  AppendJsonString(m.vfs_options, out);
  out->append(", \"optional_fields\": [");
  for (size_t i = 0; i < m.optional_fields.size(); ++i) {
    if (i != 0) out->append(", ");
    AppendJsonString(m.optional_fields[i], out);
  }
  out->append("], \"shared\": ");
  AppendOptional(m.shared, out);
  out->append(", \"master\": ");
  AppendOptional(m.master, out);
  out->append(", \"propagate_from\": ");
  AppendOptional(m.propagate_from, out);
  out->append(m.unbindable ? ", \"unbindable\": true, \"fstype\": "
                           : ", \"unbindable\": false, \"fstype\": ");
  AppendJsonString(m.fstype, out);
  out->append(", \"source\": ");
  AppendJsonString(m.source, out);
  out->append(", \"fs_options\": ");
  AppendJsonString(m.fs_options, out);
  out->push_back('}');
}

}  // namespace

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* const e = p + s.size();
  while (p < e) {
    const unsigned char* run = p;
    // Eight bytes at a time while none needs care (SWAR: a byte >= 0x80,
    // a byte < 0x20, or a '"' or '\\' byte).
    while (e - p >= 8) {
      uint64_t x;
      std::memcpy(&x, p, 8);
      constexpr uint64_t kOnes = 0x0101010101010101ull;
      constexpr uint64_t kHigh = 0x8080808080808080ull;
      auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
      if (((x & kHigh) | ((x - 0x20 * kOnes) & ~x & kHigh) |
           has_zero(x ^ ('"' * kOnes)) | has_zero(x ^ ('\\' * kOnes))) != 0) {
        break;
      }
      p += 8;
    }
    while (p < e && !kJson.c[*p]) ++p;
    out->append(reinterpret_cast<const char*>(run), p - run);
    if (p == e) break;
    unsigned char c = *p;
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(
          absl::string_view(reinterpret_cast<const char*>(p), e - p));
      if (n != 0) {
        out->append(reinterpret_cast<const char*>(p), n);
        p += n;
      } else {
        // surrogateescape: byte b → U+DC00+b.
        const char esc[] = {'\\', 'u', 'd', 'c', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, sizeof(esc));
        ++p;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default: {
        const char esc[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        out->append(esc, sizeof(esc));
      }
    }
    ++p;
  }
  out->push_back('"');
}

void AppendMountJson(const MountEntry& m, std::string* out) {
  AppendMountJsonImpl(m, out);
}

void AppendMountJson(const MountInfo& m, std::string* out) {
  AppendMountJsonImpl(m, out);
}

namespace {

template <typename Rows>
bool WriteMountsJson(const Rows& rows, absl::Span<const SkippedLine> skipped,
                     size_t chunk_size,
                     absl::FunctionRef<bool(absl::string_view)> write) {
  std::string buf;
  buf.reserve(chunk_size + 4096);
  auto flush_if_full = [&]() {
    if (buf.size() < chunk_size) return true;
    bool ok = write(buf);
    buf.clear();
    return ok;
  };
  std::string* out = &buf;
  out->append("{\"mounts\": [");
  bool first = true;
  for (const auto& m : rows) {
    if (!first) out->append(", ");
    first = false;
    AppendMountJson(m, out);
    if (!flush_if_full()) return false;
  }
  out->append("], \"skipped\": [");
  first = true;
  for (const SkippedLine& s : skipped) {
    out->append(first ? "{\"line\": " : ", {\"line\": ");
    first = false;
    AppendUint(s.line, out);
    out->append(", \"field\": ");
    AppendJsonString(s.field_name, out);
    out->append(", \"reason\": ");
    AppendJsonString(s.reason, out);
    out->push_back('}');
    if (!flush_if_full()) return false;
  }
  out->append("]}");
  return write(buf);
}

template <typename M>
std::string PropagationSummaryImpl(const M& e) {
  std::string out;
  auto add = [&](absl::string_view s) {
    if (!out.empty()) out.push_back(',');
    out.append(s.data(), s.size());
  };
  if (e.shared) add(absl::StrCat("shared:", *e.shared));
  if (e.master) add(absl::StrCat("master:", *e.master));
  if (e.propagate_from) add(absl::StrCat("propagate_from:", *e.propagate_from));
  if (e.unbindable) add("unbindable");
  if (out.empty()) out = "private";
  return out;
}

template <typename Rows>
void AppendMountsText(const Rows& rows, size_t n, std::string* out) {
  constexpr int kCols = 8;
  const char* headers[kCols] = {"ID",     "PARENT", "MAJ:MIN",     "TARGET",
                                "SOURCE", "FSTYPE", "PROPAGATION", "OPTIONS"};
  std::vector<std::string> cells;
  cells.reserve(n * kCols);
  size_t width[kCols];
  for (int c = 0; c < kCols; ++c) width[c] = std::strlen(headers[c]);
  for (const auto& m : rows) {
    std::string opts = TableCell(m.vfs_options);
    if (!m.fs_options.empty()) {
      opts.push_back(' ');
      opts += TableCell(m.fs_options);
    }
    std::string row[kCols] = {absl::StrCat(m.id),
                              absl::StrCat(m.parent_id),
                              absl::StrCat(m.major, ":", m.minor),
                              TableCell(m.target),
                              TableCell(m.source),
                              TableCell(m.fstype),
                              PropagationSummaryImpl(m),
                              std::move(opts)};
    for (int c = 0; c < kCols; ++c) {
      // The last column is not padded, so its width does not matter.
      // Capped (kMaxPaddedColumn): padding costs rows x width bytes.
      if (c + 1 < kCols) {
        width[c] =
            std::max(width[c], std::min(Width(row[c]), kMaxPaddedColumn));
      }
      cells.push_back(std::move(row[c]));
    }
  }
  auto emit_row = [&](auto cell_at) {
    for (int c = 0; c < kCols; ++c) {
      absl::string_view v = cell_at(c);
      out->append(v.data(), v.size());
      if (c + 1 < kCols) {
        size_t used = Width(v);
        out->append(used < width[c] ? width[c] - used + 1 : 1, ' ');
      }
    }
    out->push_back('\n');
  };
  emit_row([&](int c) { return absl::string_view(headers[c]); });
  for (size_t r = 0; r < n; ++r) {
    emit_row([&](int c) { return absl::string_view(cells[r * kCols + c]); });
  }
}

}  // namespace

bool WriteMountTableJson(const MountTable& table, size_t chunk_size,
                         absl::FunctionRef<bool(absl::string_view)> write) {
  return WriteMountsJson(table, table.skipped(), chunk_size, write);
}

bool WriteMountTableJson(absl::Span<const MountInfo> table, size_t chunk_size,
                         absl::FunctionRef<bool(absl::string_view)> write) {
  return WriteMountsJson(table, {}, chunk_size, write);
}

void AppendMountTableJson(const MountTable& table, std::string* out) {
  WriteMountTableJson(table, size_t{1} << 20, [out](absl::string_view piece) {
    out->append(piece.data(), piece.size());
    return true;
  });
}

std::string PropagationSummary(const MountEntry& e) {
  return PropagationSummaryImpl(e);
}

std::string PropagationSummary(const MountInfo& e) {
  return PropagationSummaryImpl(e);
}

void AppendMountTableText(const MountTable& table, std::string* out) {
  AppendMountsText(table, table.size(), out);
}

void AppendMountTableText(absl::Span<const MountInfo> table, std::string* out) {
  AppendMountsText(table, table.size(), out);
}

}  // namespace linx
