// ParseMountInfo vs libmount on the same generated tables.
//
//   bazel run -c opt //mountinfo:mountinfo_benchmark
//   bazel run -c opt //mountinfo:mountinfo_benchmark --
//       --write_table=100000 /tmp/mi-100k.txt   (writes a table to a file)
//
// Both parsers start from the same bytes in memory and end with the whole
// table parsed and freed: ParseMountInfo(string_view) copies the text into
// its arena; libmount reads it through fmemopen(3) with
// mnt_table_parse_stream() (its code path for /proc/self/mountinfo, minus
// the file system). Throughput is reported as bytes/s of input.
#include <libmount/libmount.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "benchmark/benchmark.h"
#include "mountinfo/bench_tables.h"
#include "mountinfo/mountinfo.h"

namespace linx {
namespace {

const std::string& Table(size_t entries) {
  static std::string* tables[3] = {};
  int slot = entries == 1000 ? 0 : entries == 10000 ? 1 : 2;
  if (tables[slot] == nullptr) {
    tables[slot] = new std::string(GenerateMountInfoTable(entries));
  }
  return *tables[slot];
}

void BM_ParseMountInfo(benchmark::State& state) {
  const std::string& text = Table(static_cast<size_t>(state.range(0)));
  size_t n = 0;
  for (auto _ : state) {
    absl::StatusOr<MountTable> t = ParseMountInfo(absl::string_view(text));
    n = t->size();
    benchmark::DoNotOptimize(n);
  }
  if (n != static_cast<size_t>(state.range(0))) {
    state.SkipWithError("wrong entry count");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
  state.counters["entries"] = static_cast<double>(n);
}
BENCHMARK(BM_ParseMountInfo)->Arg(1000)->Arg(10000)->Arg(100000);

// The same parse into one MountTable reused across iterations
// (MountTable::Reparse): the arena and the vectors keep their capacity, so
// a re-read of a table allocates and page-faults nothing new.
void BM_ReparseMountInfo(benchmark::State& state) {
  const std::string& text = Table(static_cast<size_t>(state.range(0)));
  MountTable t;
  size_t n = 0;
  for (auto _ : state) {
    absl::Status s = t.Reparse(absl::string_view(text));
    n = t.size();
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(n);
  }
  if (n != static_cast<size_t>(state.range(0))) {
    state.SkipWithError("wrong entry count");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
  state.counters["entries"] = static_cast<double>(n);
}
BENCHMARK(BM_ReparseMountInfo)->Arg(1000)->Arg(10000)->Arg(100000);

void BM_LibmountParse(benchmark::State& state) {
  const std::string& text = Table(static_cast<size_t>(state.range(0)));
  int n = 0;
  for (auto _ : state) {
    FILE* f = fmemopen(const_cast<char*>(text.data()), text.size(), "r");
    struct libmnt_table* tb = mnt_new_table();
    if (mnt_table_parse_stream(tb, f, "mountinfo") != 0) {
      state.SkipWithError("mnt_table_parse_stream failed");
    }
    n = mnt_table_get_nents(tb);
    benchmark::DoNotOptimize(n);
    mnt_unref_table(tb);
    std::fclose(f);
  }
  if (n != state.range(0)) state.SkipWithError("wrong entry count");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
  state.counters["entries"] = n;
}
BENCHMARK(BM_LibmountParse)->Arg(1000)->Arg(10000)->Arg(100000);

// The physical floor: one memchr(3) newline scan over the same bytes,
// counting lines, with no copy, no fields and no allocation. A parser
// cannot beat this; the goal is to stay within 3x of it.
void BM_MemchrLines(benchmark::State& state) {
  const std::string& text = Table(static_cast<size_t>(state.range(0)));
  size_t n = 0;
  for (auto _ : state) {
    n = 0;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
      const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
      if (nl == nullptr) break;
      ++n;
      p = static_cast<const char*>(nl) + 1;
    }
    benchmark::DoNotOptimize(n);
  }
  if (n != static_cast<size_t>(state.range(0))) {
    state.SkipWithError("wrong line count");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_MemchrLines)->Arg(1000)->Arg(10000)->Arg(100000);

}  // namespace
}  // namespace linx

int main(int argc, char** argv) {
  if (argc == 3 && std::strncmp(argv[1], "--write_table=", 14) == 0) {
    size_t n = std::strtoull(argv[1] + 14, nullptr, 10);
    std::string t = linx::GenerateMountInfoTable(n);
    FILE* f = std::fopen(argv[2], "wb");
    if (f == nullptr || std::fwrite(t.data(), 1, t.size(), f) != t.size() ||
        std::fclose(f) != 0) {
      std::perror(argv[2]);
      return 1;
    }
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
