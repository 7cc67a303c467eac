#include "mountinfo/format.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/json.h"
#include "mountinfo/internal/octal.h"

namespace linx {
namespace {

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
