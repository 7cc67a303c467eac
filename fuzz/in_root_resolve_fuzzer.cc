// Fuzzes ResolveInRoot with image-controlled symlinks and caller paths, and
// checks the in-root guarantees on every input (mount/in_root.h):
//   - a result fd lies under the root (/proc names it there, CheckInsideRoot
//     agrees) and its canonical path names it from the root;
//   - what was created is inside the root, and RemoveCreated removes it all;
//   - a failed call leaves the root as it was;
//   - the "host" directory beside the root never changes.
//
// Input: lines. "l NAME TARGET" plants a symlink <root>/NAME -> TARGET,
// "d NAME" a directory, "f NAME" a file (NAME: one component, [A-Za-z0-9._-],
// not "." or ".."); the last line "p FLAGS PATH" resolves PATH, FLAGS a digit
// whose bit 0 is mkdir, bit 1 create_file, bit 2 the walk instead of openat2.
// Example: "l dev ../host\np 3 dev/null".
//
// The tree lives in a fresh directory under $TEST_TMPDIR (or /tmp); no
// privilege is needed and nothing is mounted. libFuzzer has no teardown:
// remove /tmp/linx-inroot-fuzz-* after a long run.
//
//   bazel build --config=fuzz //fuzz:in_root_resolve_fuzzer
//   bazel-bin/fuzz/in_root_resolve_fuzzer -max_total_time=600
//       -dict=fuzz/dicts/in_root_resolve.dict
//       /tmp/work-corpus fuzz/corpus/in_root_resolve
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/unique_fd.h"
#include "fuzz/fuzz_check.h"
#include "mount/in_root.h"
#include "mount/internal/in_root_hooks.h"

namespace {

std::string* g_root = nullptr;
std::string* g_host = nullptr;

// Names and modes and mtimes of a directory's entries, recursively (the
// trees are tiny).
std::string Listing(const std::string& dir, bool mtimes) {
  std::string out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return "<unreadable>";
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) names.push_back(e->d_name);
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    if (n == "." || n == "..") continue;
    std::string p = dir + "/" + n;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    absl::StrAppend(&out, n, ":", st.st_mode, ":", st.st_size);
    if (mtimes) absl::StrAppend(&out, ":", st.st_mtim.tv_nsec);
    absl::StrAppend(&out, ";");
    if (S_ISDIR(st.st_mode)) {
      absl::StrAppend(&out, "{", Listing(p, mtimes), "}");
    }
  }
  return out;
}

bool ValidName(absl::string_view n) {
  if (n.empty() || n.size() > 64 || n == "." || n == "..") return false;
  for (char c : n) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

void Setup() {
  const char* t = ::getenv("TEST_TMPDIR");
  std::string templ =
      absl::StrCat(t != nullptr ? t : "/tmp", "/linx-inroot-fuzz-XXXXXX");
  LINX_FUZZ_CHECK(::mkdtemp(templ.data()) != nullptr);
  g_root = new std::string(templ + "/root");
  g_host = new std::string(templ + "/host");
  for (const std::string& d :
       {*g_root, *g_host, *g_host + "/etc", *g_root + "/a", *g_root + "/a/b"}) {
    LINX_FUZZ_CHECK(::mkdir(d.c_str(), 0755) == 0);
  }
  for (const std::string& f : {*g_host + "/etc/passwd", *g_root + "/a/f"}) {
    linx::UniqueFd fd(::open(f.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    LINX_FUZZ_CHECK(fd.valid());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_root == nullptr) Setup();
  if (size > 8192) return 0;
  std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines = absl::StrSplit(input, '\n');
  if (lines.empty()) return 0;
  const std::string root_before = Listing(*g_root, false);
  const std::string host_before = Listing(*g_host, true);

  // Plant what the image controls.
  std::vector<std::string> planted;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::vector<std::string> f =
        absl::StrSplit(lines[i], absl::MaxSplits(' ', 2));
    if (f.size() < 2 || !ValidName(f[1])) continue;
    std::string at = *g_root + "/" + f[1];
    struct stat st {};
    if (::lstat(at.c_str(), &st) == 0) continue;  // never touch the base tree
    bool made = false;
    if (f[0] == "l" && f.size() == 3 && f[2].find('\0') == std::string::npos) {
      made = ::symlink(f[2].c_str(), at.c_str()) == 0;
    } else if (f[0] == "d") {
      made = ::mkdir(at.c_str(), 0755) == 0;
    } else if (f[0] == "f") {
      linx::UniqueFd fd(
          ::open(at.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
      made = fd.valid();
    }
    if (made) planted.push_back(f[1]);
  }
  const std::string root_planted = Listing(*g_root, false);

  std::vector<std::string> p =
      absl::StrSplit(lines.back(), absl::MaxSplits(' ', 2));
  if (p.size() == 3 && p[0] == "p" && p[1].size() == 1 && p[1][0] >= '0' &&
      p[1][0] <= '7') {
    int flags = p[1][0] - '0';
    linx::InRootOptions opts;
    opts.mkdir = (flags & 1) != 0;
    opts.create_file = (flags & 2) != 0;
    linx::mount_internal::SetForceNoOpenat2((flags & 4) != 0);
    linx::UniqueFd root(
        ::open(g_root->c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    LINX_FUZZ_CHECK(root.valid());
    absl::StatusOr<linx::InRootPath> r =
        linx::ResolveInRoot(root.get(), p[2], opts);
    if (r.ok()) {
      char buf[8192];
      ssize_t n =
          ::readlink(absl::StrCat("/proc/self/fd/", r->fd.get()).c_str(), buf,
                     sizeof(buf) - 1);
      LINX_FUZZ_CHECK(n > 0);
      std::string where(buf, static_cast<size_t>(n));
      LINX_FUZZ_CHECK(where == *g_root ||
                      absl::StartsWith(where, *g_root + "/"));
      LINX_FUZZ_CHECK(linx::CheckInsideRoot(root.get(), r->fd.get()).ok());
      LINX_FUZZ_CHECK(absl::StartsWith(r->path, "/"));
      std::string full = r->path == "/" ? *g_root : *g_root + r->path;
      if (full.size() < PATH_MAX) {
        struct stat a {
        }, b{};
        LINX_FUZZ_CHECK(::stat(full.c_str(), &a) == 0);
        LINX_FUZZ_CHECK(::fstat(r->fd.get(), &b) == 0);
        LINX_FUZZ_CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
      }
      for (const linx::Created& c : r->created) {
        struct stat st {};
        std::string at = *g_root + c.path;
        LINX_FUZZ_CHECK(at.size() >= PATH_MAX || ::lstat(at.c_str(), &st) == 0);
      }
      linx::RemoveCreated(root.get(), r->created);
    }
    linx::mount_internal::SetForceNoOpenat2(false);
    // Failed or rolled back: the root is as planted.
    LINX_FUZZ_CHECK(Listing(*g_root, false) == root_planted);
  }
  LINX_FUZZ_CHECK(Listing(*g_host, true) == host_before);

  for (const std::string& name : planted) {
    std::string at = *g_root + "/" + name;
    if (::unlink(at.c_str()) != 0) ::rmdir(at.c_str());
  }
  LINX_FUZZ_CHECK(Listing(*g_root, false) == root_before);
  return 0;
}
