#include "mountinfo/libmount_compare.h"

#include <libmount/libmount.h>
#include <sys/sysmacros.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace linx {
namespace {

std::string Str(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace

std::vector<LibmountEntry> LibmountParse(absl::string_view text) {
  std::vector<LibmountEntry> out;
  // fmemopen rejects a zero-length buffer; an empty text has no entries.
  if (text.empty()) return out;
  std::string copy(text);
  FILE* f = fmemopen(&copy[0], copy.size(), "r");
  if (f == nullptr) return out;
  struct libmnt_table* tb = mnt_new_table();
  mnt_table_parse_stream(tb, f, "mountinfo");
  struct libmnt_iter* it = mnt_new_iter(MNT_ITER_FORWARD);
  struct libmnt_fs* fs = nullptr;
  while (mnt_table_next_fs(tb, it, &fs) == 0) {
    LibmountEntry e;
    e.id = mnt_fs_get_id(fs);
    e.parent_id = mnt_fs_get_parent_id(fs);
    dev_t dev = mnt_fs_get_devno(fs);
    e.major = major(dev);
    e.minor = minor(dev);
    e.root = Str(mnt_fs_get_root(fs));
    e.target = Str(mnt_fs_get_target(fs));
    e.vfs_options = Str(mnt_fs_get_vfs_options(fs));
    const char* opt = mnt_fs_get_optional_fields(fs);
    e.optional_fields = Str(opt);
    e.optional_fields_null = opt == nullptr;
    e.fstype = Str(mnt_fs_get_fstype(fs));
    const char* src = mnt_fs_get_source(fs);
    e.source = Str(src);
    e.source_null = src == nullptr;
    e.fs_options = Str(mnt_fs_get_fs_options(fs));
    out.push_back(std::move(e));
  }
  mnt_free_iter(it);
  mnt_unref_table(tb);
  std::fclose(f);
  return out;
}

std::vector<FieldDiff> CompareWithLibmount(
    const MountTable& ours, const std::vector<LibmountEntry>& theirs) {
  std::vector<FieldDiff> diffs;
  if (ours.size() != theirs.size()) {
    diffs.push_back(
        {0, "entries", absl::StrCat(ours.size()), absl::StrCat(theirs.size())});
  }
  size_t n = ours.size() < theirs.size() ? ours.size() : theirs.size();
  for (size_t i = 0; i < n; ++i) {
    const MountEntry& a = ours[i];
    const LibmountEntry& b = theirs[i];
    auto cmp = [&](const char* field, const std::string& x,
                   const std::string& y) {
      if (x != y) diffs.push_back({i, field, x, y});
    };
    cmp("id", absl::StrCat(a.id), absl::StrCat(b.id));
    cmp("parent_id", absl::StrCat(a.parent_id), absl::StrCat(b.parent_id));
    cmp("major", absl::StrCat(a.major), absl::StrCat(b.major));
    cmp("minor", absl::StrCat(a.minor), absl::StrCat(b.minor));
    cmp("root", std::string(a.root), b.root);
    cmp("target", std::string(a.target), b.target);
    cmp("vfs_options", std::string(a.vfs_options), b.vfs_options);
    cmp("optional_fields", absl::StrJoin(a.optional_fields, " "),
        b.optional_fields);
    cmp("fstype", std::string(a.fstype), b.fstype);
    cmp("source", std::string(a.source), b.source);
    cmp("fs_options", std::string(a.fs_options), b.fs_options);
  }
  return diffs;
}

}  // namespace linx
