#include "mountinfo/bench_tables.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace linx {
namespace {

struct Rng {
  uint64_t s;
  uint32_t Next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(s >> 33);
  }
  uint32_t Below(uint32_t n) { return Next() % n; }
};

std::string Hex(Rng& r, int n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n, '0');
  for (char& c : out) c = kHex[r.Below(16)];
  return out;
}

std::string LayerId(Rng& r) {
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string out(26, 'A');
  for (char& c : out) c = kAlnum[r.Below(36)];
  return out;
}

std::string Propagation(Rng& r) {
  switch (r.Below(6)) {
    case 0:
    case 1:
      return absl::StrCat(" shared:", 1 + r.Below(900));
    case 2:
      return absl::StrCat(" master:", 1 + r.Below(900));
    case 3:
      return absl::StrCat(" shared:", 1 + r.Below(900),
                          " master:", 1 + r.Below(900));
    case 4:
      return r.Below(8) == 0 ? " unbindable" : "";
    default:
      return "";
  }
}

}  // namespace

std::string GenerateMountInfoTable(size_t entries) {
  Rng r{entries * 7919 + 17};
  std::string out;
  out.reserve(entries * 600);
  for (size_t i = 0; i < entries; ++i) {
    uint32_t id = 20 + static_cast<uint32_t>(i);
    uint32_t parent = i == 0 ? 1 : 20 + r.Below(static_cast<uint32_t>(i));
    uint32_t kind = r.Below(20);
    if (kind < 8) {
      // Docker/containerd overlay root.
      std::string c = Hex(r, 64);
      std::string lower = "lowerdir=";
      int layers = 8 + static_cast<int>(r.Below(13));
      for (int l = 0; l < layers; ++l) {
        if (l != 0) lower.push_back(':');
        absl::StrAppend(&lower, "/var/lib/docker/overlay2/l/", LayerId(r));
      }
      absl::StrAppend(&out, id, " ", parent, " 0:", 100 + i % 5000,
                      " / /var/lib/docker/overlay2/", c, "/merged rw,relatime",
                      Propagation(r), " - overlay overlay rw,", lower,
                      ",upperdir=/var/lib/docker/overlay2/", c,
                      "/diff,workdir=/var/lib/docker/overlay2/", c,
                      "/work,index=off\n");
    } else if (kind < 13) {
      // kubelet volume bind with escaped names.
      std::string pod = absl::StrCat(Hex(r, 8), "-", Hex(r, 4), "-", Hex(r, 4),
                                     "-", Hex(r, 4), "-", Hex(r, 12));
      absl::StrAppend(&out, id, " ", parent, " 259:", 1 + r.Below(4),
                      " /var/lib/kubelet/pods/", pod,
                      "/volumes/kubernetes.io~configmap/app\\040config\\011", i,
                      " /var/lib/kubelet/pods/", pod,
                      "/volume-subpaths/my\\040volume/container/0 rw,relatime",
                      Propagation(r), " - ext4 /dev/nvme0n1p", 1 + r.Below(4),
                      " rw,errors=remount-ro\n");
    } else if (kind < 15) {
      absl::StrAppend(
          &out, id, " ", parent, " 0:", 30 + r.Below(40), " / /sys/fs/cgroup/",
          Hex(r, 6), " rw,nosuid,nodev,noexec,relatime", Propagation(r),
          " - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n");
    } else if (kind < 17) {
      absl::StrAppend(
          &out, id, " ", parent, " 0:", 50 + r.Below(900),
          " / /run/containerd/io.containerd.runtime.v2.task/k8s.io/",
          Hex(r, 64), "/rootfs/dev/shm rw,nosuid,nodev,noexec", Propagation(r),
          " - tmpfs ", r.Below(10) == 0 ? "" : "shm",
          " rw,size=65536k,inode64\n");
    } else if (kind < 18) {
      absl::StrAppend(&out, id, " ", parent, " 0:", 20 + r.Below(10),
                      " / /proc rw,nosuid,nodev,noexec,relatime",
                      Propagation(r), " - proc proc rw\n");
    } else if (kind < 19) {
      absl::StrAppend(&out, id, " ", parent, " 0:", 60 + r.Below(10),
                      " /exports/home/user", i, " /home/user", i,
                      " rw,relatime", Propagation(r),
                      " - nfs4 fileserver.example.org:/exports/home/user", i,
                      " rw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,"
                      "hard,proto=tcp,timeo=600,retrans=2,sec=sys,"
                      "clientaddr=10.0.0.5,local_lock=none,addr=10.0.0.1\n");
    } else {
      absl::StrAppend(&out, id, " ", parent, " 8:", r.Below(16),
                      " /var/lib/snapd/", Hex(r, 10), "//deleted /snap/core", i,
                      " ro,nodev,relatime", Propagation(r),
                      " - squashfs /dev/loop", r.Below(64),
                      " ro,errors=continue,threads=single\n");
    }
  }
  return out;
}

}  // namespace linx
