// json: a small, bounded JSON (RFC 8259) parser for configuration files such
// as an OCI runtime-spec config.json, and the string writer every --json
// output of the CLI uses. No exceptions, no recursion beyond a fixed depth, no
// allocation beyond a fixed size.
//
//   absl::StatusOr<linx::JsonValue> doc = linx::ParseJson(text);
//   if (!doc.ok()) return doc.status();  // "json line 3, column 9: ..."
//   if (const linx::JsonValue* mounts = doc->Find("mounts")) {
//     for (const linx::JsonValue& m : mounts->items) { ... }
//   }
//
// What is accepted: exactly one value (object, array, string, number, true,
// false, null) with optional whitespace (space, tab, CR, LF) around it.
// Strings: every escape of RFC 8259 (\" \\ \/ \b \f \n \r \t \uXXXX), where
// a \u escape of a high surrogate must be followed by a \u escape of a low
// surrogate and the pair decodes to one code point; a lone \udc80..\udcff
// decodes to the raw byte 0x80..0xff (Python's "surrogateescape", how
// AppendJsonString writes bytes that are not UTF-8), any other lone
// surrogate is an error; raw bytes must be valid
// UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF) and no control
// character below 0x20 may appear unescaped. "\u0000" decodes to a NUL byte
// (callers that pass strings to the kernel must refuse it). Numbers follow
// the RFC grammar (no leading zeros, no "+", no ".5", no NaN or Infinity)
// and are kept as their literal text plus a double. Objects keep their
// members in order; a key given twice is an error (parsers disagree on which
// one wins — Go's encoding/json, which runc uses, takes the last — so an
// ambiguous file is refused).
//
// Errors: kInvalidArgument with an OpError payload {operation "json", stage
// kBadArgument, errno 0, value "LINE:COLUMN"} and a message
//   json line 3, column 9: expected ':' after an object key, got '}'
// Lines and columns count from 1; the column counts bytes. Limits (input
// size, nesting depth, number of values) are errors of the same kind.
//
// Thread-safety: pure functions; JsonValue is a plain value.
#ifndef LINX_BASE_JSON_H_
#define LINX_BASE_JSON_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linx {

enum class JsonType { kNull, kBool, kNumber, kString, kArray, kObject };

// "null", "boolean", "number", "string", "array", "object". Static storage.
const char* JsonTypeName(JsonType type);

struct JsonMember;

// One parsed value. Only the fields of its `type` are meaningful.
struct JsonValue {
  JsonType type = JsonType::kNull;
  bool boolean = false;             // kBool
  double number = 0;                // kNumber (may be ±inf if out of range)
  std::string text;                 // kString: decoded; kNumber: the literal
  std::vector<JsonValue> items;     // kArray
  std::vector<JsonMember> members;  // kObject, in file order, keys unique

  bool is_null() const { return type == JsonType::kNull; }
  bool is_string() const { return type == JsonType::kString; }
  bool is_array() const { return type == JsonType::kArray; }
  bool is_object() const { return type == JsonType::kObject; }

  // The member `key` of an object; nullptr when absent or not an object.
  const JsonValue* Find(absl::string_view key) const;
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

struct JsonLimits {
  // Longer input is refused before parsing (line 1, column 1).
  size_t max_bytes = 1 << 20;  // 1 MiB: an OCI config.json is a few KiB
  // Arrays and objects nested deeper than this are refused. The parser
  // recurses once per level, so this also bounds its stack use.
  int max_depth = 64;
  // At most this many values (every array item, member value and the top
  // value count), so that "[0,0,0,...]" cannot cost much more memory than
  // a realistic file.
  size_t max_values = 1 << 16;
};

// Parses `text` as one JSON value (see the overview for the grammar and the
// errors). No syscalls.
absl::StatusOr<JsonValue> ParseJson(absl::string_view text,
                                    const JsonLimits& limits = {});

// Appends `s` as a JSON string literal (with the quotes): the one string
// writer of every linx JSON output (`linx list/find/watch --json`, `linx
// apply --json`).
//
// Valid UTF-8 is copied as is (including U+FFFE and other non-characters);
// '"', '\\' and bytes below 0x20 are escaped (\n, \t, \r, \b, \f, else
// \u00XX). Each byte that is not part of a valid UTF-8 sequence (strict
// RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF) becomes the
// lone surrogate U+DC00+byte, written as `\udcXX` (0x80 <= byte <= 0xFF):
// Python's "surrogateescape". This is unambiguous: valid UTF-8 can never
// produce a lone surrogate, so ParseJson (which decodes \udc80..\udcff back
// to those bytes) recovers the exact input, as does Python's
// json.loads(s).encode("utf-8", "surrogateescape"). Eight bytes at a time
// while none needs care.
void AppendJsonString(absl::string_view s, std::string* out);

// AppendJsonString into a new string.
std::string JsonQuote(absl::string_view s);

}  // namespace linx

#endif  // LINX_BASE_JSON_H_
