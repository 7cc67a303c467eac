// Differential fuzzer: ParseMountInfo vs util-linux libmount.
//
// Only inputs that both parsers should read the same way are compared:
// every line is kernel format (single-space separators, no tabs, no
// padding; our parser skipped no line), and per field the documented
// differences (docs/mountinfo.md, "Differences from libmount") are left
// out: super options holding a raw blank, optional fields holding a
// backslash, any field holding an out-of-range escape (`\000`,
// `\400`..`\777`), and the source "/dev/root" (libmount names the device
// instead). Anything else that differs aborts.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "mountinfo/libmount_compare.h"
#include "mountinfo/mountinfo.h"

namespace {

bool HasOutOfRangeEscape(absl::string_view s) {
  for (size_t i = 0; i + 3 < s.size(); ++i) {
    if (s[i] != '\\') continue;
    char a = s[i + 1], b = s[i + 2], c = s[i + 3];
    if (a < '0' || a > '7' || b < '0' || b > '7' || c < '0' || c > '7') {
      continue;
    }
    int v = (a - '0') * 64 + (b - '0') * 8 + (c - '0');
    if (v == 0 || v > 255) return true;
  }
  return false;
}

// Raw per-field text of one kernel-format line, or false when the line is
// not kernel format (a blank run, a tab, a leading blank).
struct RawLine {
  std::vector<absl::string_view> fields;  // root, target, vfs (indices 0-2)
  std::string optional;                   // raw optional-field tokens
  absl::string_view fstype, source, super;
  bool super_has_blank = false;
};

bool SplitKernelLine(absl::string_view line, RawLine* out) {
  if (line.find('\t') != absl::string_view::npos) return false;
  std::vector<absl::string_view> tok = absl::StrSplit(line, ' ');
  if (tok.size() < 10) return false;
  for (int i = 0; i < 6; ++i) {
    if (tok[i].empty()) return false;
  }
  size_t k = 6;
  while (k < tok.size() && tok[k] != "-") {
    if (tok[k].empty()) return false;
    if (!out->optional.empty()) out->optional.push_back(' ');
    out->optional.append(tok[k].data(), tok[k].size());
    ++k;
  }
  // "-", fstype, source and at least one super-options token.
  if (k + 3 >= tok.size()) return false;
  if (tok[k + 1].empty()) return false;
  out->fields = {tok[3], tok[4], tok[5]};
  out->fstype = tok[k + 1];
  out->source = tok[k + 2];
  const char* super_begin = tok[k + 2].data() + tok[k + 2].size() + 1;
  out->super =
      absl::string_view(super_begin, line.data() + line.size() - super_begin);
  out->super_has_blank = out->super.find(' ') != absl::string_view::npos;
  return true;
}

// With LINX_FUZZ_STATS set, prints how many inputs reached the comparison
// (the rest were excluded above) when the process exits.
struct Stats {
  size_t inputs = 0, compared = 0, entries = 0;
  ~Stats() {
    if (std::getenv("LINX_FUZZ_STATS") != nullptr) {
      std::fprintf(stderr,
                   "diff stats: %zu inputs, %zu compared, %zu entries\n",
                   inputs, compared, entries);
    }
  }
};
Stats stats;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  ++stats.inputs;
  absl::StatusOr<linx::MountTable> ours = linx::ParseMountInfo(text);
  if (!ours.ok() || !ours->skipped().empty() || ours->empty()) return 0;

  // The raw entry lines, split the way ParseMountInfo splits them.
  std::vector<RawLine> raw;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = line.find_first_not_of(" \t");
    if (first == absl::string_view::npos || line[first] == '#') continue;
    RawLine r;
    if (!SplitKernelLine(line, &r)) return 0;
    raw.push_back(std::move(r));
  }
  if (raw.size() != ours->size())
    return 0;  // '\r' lines etc.: not ours to judge

  ++stats.compared;
  stats.entries += ours->size();
  std::vector<linx::LibmountEntry> theirs = linx::LibmountParse(text);
  if (theirs.size() != ours->size()) {
    std::fprintf(stderr, "entry count: ours %zu, libmount %zu\n", ours->size(),
                 theirs.size());
    std::abort();
  }
  for (const linx::FieldDiff& d : linx::CompareWithLibmount(*ours, theirs)) {
    const RawLine& r = raw[d.entry];
    bool documented =
        (d.field == "fs_options" &&
         (r.super_has_blank || HasOutOfRangeEscape(r.super))) ||
        (d.field == "optional_fields" &&
         r.optional.find('\\') != std::string::npos) ||
        (d.field == "root" && HasOutOfRangeEscape(r.fields[0])) ||
        (d.field == "target" && HasOutOfRangeEscape(r.fields[1])) ||
        (d.field == "vfs_options" && HasOutOfRangeEscape(r.fields[2])) ||
        (d.field == "fstype" && HasOutOfRangeEscape(r.fstype)) ||
        (d.field == "source" &&
         (HasOutOfRangeEscape(r.source) || r.source == "/dev/root"));
    if (!documented) {
      std::fprintf(stderr, "entry %zu field %s: ours \"%s\", libmount \"%s\"\n",
                   d.entry, d.field.c_str(), absl::CEscape(d.ours).c_str(),
                   absl::CEscape(d.theirs).c_str());
      std::abort();
    }
  }
  return 0;
}
