// Fuzzes ParseMountInfo and checks invariants that must hold for any input:
//  - lenient parsing always succeeds; strict fails iff lenient skipped a
//    line, and when it succeeds it yields the same entries;
//  - entries + skipped lines never exceed the number of lines;
//  - every entry survives FormatMountInfoLine -> ParseMountInfoLine;
//  - every string field survives Encode -> Decode of escapes;
//  - the JSON output is valid UTF-8 (surrogateescape never leaks raw bytes)
//    and streaming it in small chunks gives the same text.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz/fuzz_check.h"
#include "mountinfo/format.h"
#include "mountinfo/mountinfo.h"

namespace {

bool ValidUtf8(const std::string& s) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* e = p + s.size();
  while (p < e) {
    unsigned char c = *p;
    size_t n = c < 0x80         ? 1
               : (c >> 5) == 6  ? 2
               : (c >> 4) == 14 ? 3
               : (c >> 3) == 30 ? 4
                                : 0;
    if (n == 0 || static_cast<size_t>(e - p) < n) return false;
    for (size_t i = 1; i < n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
    }
    p += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<linx::MountTable> lenient = linx::ParseMountInfo(text);
  LINX_FUZZ_CHECK(lenient.ok());
  linx::ParseOptions strict_opts;
  strict_opts.strict = true;
  absl::StatusOr<linx::MountTable> strict =
      linx::ParseMountInfo(text, strict_opts);
  LINX_FUZZ_CHECK(strict.ok() == lenient->skipped().empty());
  if (!strict.ok()) {
    LINX_FUZZ_CHECK(strict.status().code() ==
                    absl::StatusCode::kInvalidArgument);
    LINX_FUZZ_CHECK(strict.status().message().substr(0, 15) ==
                    "mountinfo line ");
  } else {
    LINX_FUZZ_CHECK(strict->size() == lenient->size());
    for (size_t i = 0; i < strict->size(); ++i) {
      LINX_FUZZ_CHECK(linx::MountInfo((*strict)[i]) ==
                      linx::MountInfo((*lenient)[i]));
    }
  }
  size_t lines = 1;
  for (char c : text) lines += c == '\n';
  LINX_FUZZ_CHECK(lenient->size() + lenient->skipped().size() <= lines);
  uint64_t last_line = 0;
  for (const linx::SkippedLine& s : lenient->skipped()) {
    LINX_FUZZ_CHECK(s.line > last_line && s.line <= lines);
    LINX_FUZZ_CHECK(!s.reason.empty());
    last_line = s.line;
  }

  for (const linx::MountEntry& e : *lenient) {
    LINX_FUZZ_CHECK(e.id >= 0 && e.parent_id >= 0);
    LINX_FUZZ_CHECK(!e.fs_options.empty() && !e.fstype.empty());
    linx::MountInfo m(e);
    std::string line = linx::FormatMountInfoLine(m);
    absl::StatusOr<linx::MountInfo> again = linx::ParseMountInfoLine(line);
    LINX_FUZZ_CHECK(again.ok());
    LINX_FUZZ_CHECK(*again == m);
    for (absl::string_view f :
         {e.root, e.target, e.vfs_options, e.fstype, e.source, e.fs_options}) {
      LINX_FUZZ_CHECK(
          linx::DecodeMountInfoEscapes(linx::EncodeMountInfoEscapes(f)) == f);
    }
  }

  std::string json;
  linx::AppendMountTableJson(*lenient, &json);
  LINX_FUZZ_CHECK(ValidUtf8(json));
  LINX_FUZZ_CHECK(json.substr(0, 12) == "{\"mounts\": [");
  std::string chunked;
  linx::WriteMountTableJson(*lenient, 7, [&](absl::string_view p) {
    chunked.append(p.data(), p.size());
    return true;
  });
  LINX_FUZZ_CHECK(chunked == json);
  return 0;
}
