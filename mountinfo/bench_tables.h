// Generated mountinfo tables for benchmarks: realistic container hosts.
// Test-only.
#ifndef LINX_MOUNTINFO_BENCH_TABLES_H_
#define LINX_MOUNTINFO_BENCH_TABLES_H_

#include <cstddef>
#include <string>

namespace linx {

// A kernel-format mountinfo text of `entries` lines, deterministic for a
// given count. The mix: ~40% overlay container roots with 8-20 layer
// lowerdir lists (~1 KiB lines), ~25% kubelet volume binds whose names hold
// `\040`/`\011` escapes, the rest proc/sysfs/cgroup/tmpfs/ext4/nfs mounts;
// propagation mixed (shared, master, shared+master, private, unbindable);
// an occasional empty source.
std::string GenerateMountInfoTable(size_t entries);

}  // namespace linx

#endif  // LINX_MOUNTINFO_BENCH_TABLES_H_
