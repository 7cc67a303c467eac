// Fuzzes ParseJson and checks invariants that must hold for any input:
//  - it returns (no crash, no hang) with either a value or a
//    kInvalidArgument whose message starts "json line " and whose payload
//    names the line and column;
//  - a parsed value, written back out with JsonQuote for its strings,
//    parses again to the same value (decoding is exact);
//  - JsonQuote of any bytes parses back to exactly those bytes (valid UTF-8
//    as is, other bytes through surrogateescape's \udcXX).
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/json.h"
#include "base/op_error.h"
#include "fuzz/fuzz_check.h"

namespace {

void Write(const linx::JsonValue& v, std::string* out) {
  switch (v.type) {
    case linx::JsonType::kNull:
      *out += "null";
      break;
    case linx::JsonType::kBool:
      *out += v.boolean ? "true" : "false";
      break;
    case linx::JsonType::kNumber:
      *out += v.text;
      break;
    case linx::JsonType::kString:
      *out += linx::JsonQuote(v.text);
      break;
    case linx::JsonType::kArray:
      *out += "[";
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i > 0) *out += ",";
        Write(v.items[i], out);
      }
      *out += "]";
      break;
    case linx::JsonType::kObject:
      *out += "{";
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i > 0) *out += ",";
        *out += linx::JsonQuote(v.members[i].key);
        *out += ":";
        Write(v.members[i].value, out);
      }
      *out += "}";
      break;
  }
}

bool Same(const linx::JsonValue& a, const linx::JsonValue& b) {
  if (a.type != b.type || a.boolean != b.boolean || a.text != b.text ||
      a.items.size() != b.items.size() ||
      a.members.size() != b.members.size()) {
    return false;
  }
  for (size_t i = 0; i < a.items.size(); ++i) {
    if (!Same(a.items[i], b.items[i])) return false;
  }
  for (size_t i = 0; i < a.members.size(); ++i) {
    if (a.members[i].key != b.members[i].key ||
        !Same(a.members[i].value, b.members[i].value)) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<linx::JsonValue> v = linx::ParseJson(text);
  if (!v.ok()) {
    LINX_FUZZ_CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
    LINX_FUZZ_CHECK(v.status().message().substr(0, 10) == "json line ");
    std::optional<linx::OpError> e = linx::GetOpError(v.status());
    LINX_FUZZ_CHECK(e.has_value() && e->operation == "json" &&
                    e->value.find(':') != std::string::npos);
  } else {
    std::string again;
    Write(*v, &again);
    absl::StatusOr<linx::JsonValue> w = linx::ParseJson(again);
    LINX_FUZZ_CHECK(w.ok());
    LINX_FUZZ_CHECK(Same(*v, *w));
  }
  // Every input, read as one string: quoting never produces invalid JSON,
  // and parsing it gives the input back, byte for byte.
  std::string quoted = linx::JsonQuote(text);
  absl::StatusOr<linx::JsonValue> q = linx::ParseJson(quoted);
  LINX_FUZZ_CHECK(q.ok() && q->is_string() && q->text == text);
  return 0;
}
