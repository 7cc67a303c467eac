#include "mountinfo/tree.h"

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "mountinfo/format.h"

namespace linx {
namespace {

struct Row {
  std::string prefix;  // tree drawing (UTF-8)
  size_t prefix_cols = 0;
  const MountInfo* m = nullptr;
};

// Pads to `width`; a value at or past it (only possible beyond
// kMaxPaddedColumn) still gets the one separating blank.
void Pad(std::string* out, size_t used, size_t width) {
  out->append(used + 1 < width ? width - used : 1, ' ');
}

}  // namespace

void AppendMountTree(absl::Span<const MountInfo> table, std::string* out) {
  absl::flat_hash_map<int32_t, size_t> index;
  for (size_t i = 0; i < table.size(); ++i) index.emplace(table[i].id, i);
  absl::flat_hash_map<int32_t, std::vector<size_t>> kids;
  std::vector<size_t> roots;
  for (size_t i = 0; i < table.size(); ++i) {
    const MountInfo& m = table[i];
    auto it = index.find(m.parent_id);
    if (m.parent_id == m.id || it == index.end() || it->second == i) {
      roots.push_back(i);
    } else {
      kids[m.parent_id].push_back(i);
    }
  }
  std::vector<Row> rows;
  std::vector<bool> done(table.size(), false);
  // Depth-first, iterative; `lead` is the continuation prefix of the level.
  struct Frame {
    size_t i;
    std::string lead;
    std::string branch;
    size_t lead_cols;
    size_t branch_cols;
    size_t depth;
  };
  auto walk = [&](size_t root) {
    std::vector<Frame> stack = {{root, "", "", 0, 0, 0}};
    while (!stack.empty()) {
      Frame f = std::move(stack.back());
      stack.pop_back();
      if (done[f.i]) continue;
      done[f.i] = true;
      rows.push_back(
          {f.lead + f.branch, f.lead_cols + f.branch_cols, &table[f.i]});
      auto it = kids.find(table[f.i].id);
      if (it == kids.end()) continue;
      const std::vector<size_t>& c = it->second;
      // The continuation for children of this entry.
      std::string lead = f.lead;
      size_t lead_cols = f.lead_cols;
      if (!f.branch.empty() && f.depth < kMaxTreeIndent) {
        bool last = f.branch == "\u2514\u2500";
        lead += last ? "  " : "\u2502 ";
        lead_cols += 2;
      }
      for (size_t k = c.size(); k-- > 0;) {
        bool last = k + 1 == c.size();
        stack.push_back({c[k], lead, last ? "\u2514\u2500" : "\u251c\u2500",
                         lead_cols, 2, f.depth + 1});
      }
    }
  };
  for (size_t r : roots) walk(r);
  for (size_t i = 0; i < table.size(); ++i) {
    if (!done[i]) walk(i);  // cycles: print once, as a root
  }

  struct Cells {
    std::string target, source, fstype, prop, opts;
    size_t target_cols;
  };
  std::vector<Cells> cells;
  size_t w[4] = {6, 6, 6, 11};  // TARGET SOURCE FSTYPE PROPAGATION
  for (const Row& r : rows) {
    Cells c;
    std::string t = EncodeMountInfoEscapes(r.m->target);
    c.target = r.prefix + t;
    c.target_cols = r.prefix_cols + t.size();
    c.source = EncodeMountInfoEscapes(r.m->source);
    c.fstype = EncodeMountInfoEscapes(r.m->fstype);
    c.prop = PropagationSummary(*r.m);
    c.opts = EncodeMountInfoEscapes(r.m->vfs_options);
    // Capped: padding costs rows x width bytes (format.h).
    w[0] = std::max(w[0], std::min(c.target_cols, kMaxPaddedColumn));
    w[1] = std::max(w[1], std::min(c.source.size(), kMaxPaddedColumn));
    w[2] = std::max(w[2], std::min(c.fstype.size(), kMaxPaddedColumn));
    w[3] = std::max(w[3], std::min(c.prop.size(), kMaxPaddedColumn));
    cells.push_back(std::move(c));
  }
  auto line = [&](const std::string& a, size_t a_cols, const std::string& b,
                  const std::string& c, const std::string& d,
                  const std::string& e) {
    out->append(a);
    Pad(out, a_cols, w[0] + 1);
    out->append(b);
    Pad(out, b.size(), w[1] + 1);
    out->append(c);
    Pad(out, c.size(), w[2] + 1);
    out->append(d);
    Pad(out, d.size(), w[3] + 1);
    out->append(e);
    out->push_back('\n');
  };
  line("TARGET", 6, "SOURCE", "FSTYPE", "PROPAGATION", "OPTIONS");
  for (const Cells& c : cells) {
    line(c.target, c.target_cols, c.source, c.fstype, c.prop, c.opts);
  }
}

}  // namespace linx
