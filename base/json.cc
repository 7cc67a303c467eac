#include "base/json.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/op_error.h"
#include "base/utf8.h"

namespace linx {
namespace {

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// How a byte is shown in "got ..." parts of messages.
std::string Shown(absl::string_view text, size_t pos) {
  if (pos >= text.size()) return "end of input";
  unsigned char c = static_cast<unsigned char>(text[pos]);
  if (c >= 0x20 && c < 0x7f) return absl::StrCat("'", text.substr(pos, 1), "'");
  static const char kHex[] = "0123456789abcdef";
  return absl::StrCat("byte 0x", std::string(1, kHex[c >> 4]),
                      std::string(1, kHex[c & 15]));
}

class Parser {
 public:
  Parser(absl::string_view text, const JsonLimits& limits)
      : text_(text), limits_(limits) {}

  absl::StatusOr<JsonValue> ParseDocument() {
    if (text_.size() > limits_.max_bytes) {
      return ErrorAt(0, absl::StrCat("input is ", text_.size(),
                                     " bytes, more than the limit of ",
                                     limits_.max_bytes));
    }
    JsonValue value;
    if (absl::Status s = ParseValue(0, &value); !s.ok()) return s;
    SkipSpace();
    if (pos_ != text_.size()) {
      return ErrorAt(pos_, absl::StrCat("expected the end of input after the "
                                        "value, got ",
                                        Shown(text_, pos_)));
    }
    return value;
  }

 private:
  absl::Status ErrorAt(size_t pos, absl::string_view what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    OpError e;
    e.operation = "json";
    e.stage = Stage::kBadArgument;
    e.value = absl::StrCat(line, ":", column);
    return MakeOpError(
        e, absl::StrCat("json line ", line, ", column ", column, ": ", what));
  }

  void SkipSpace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool Literal(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  absl::Status ParseValue(int depth, JsonValue* out) {
    if (++values_ > limits_.max_values) {
      return ErrorAt(pos_,
                     absl::StrCat("more than ", limits_.max_values, " values"));
    }
    SkipSpace();
    if (pos_ >= text_.size()) {
      return ErrorAt(pos_, "expected a value, got end of input");
    }
    const size_t start = pos_;
    switch (text_[pos_]) {
      case '{':
        return ParseObject(depth + 1, out);
      case '[':
        return ParseArray(depth + 1, out);
      case '"':
        out->type = JsonType::kString;
        return ParseString(&out->text);
      case 't':
        if (Literal("true")) {
          out->type = JsonType::kBool;
          out->boolean = true;
          return absl::OkStatus();
        }
        break;
      case 'f':
        if (Literal("false")) {
          out->type = JsonType::kBool;
          out->boolean = false;
          return absl::OkStatus();
        }
        break;
      case 'n':
        if (Literal("null")) {
          out->type = JsonType::kNull;
          return absl::OkStatus();
        }
        break;
      default:
        if (text_[pos_] == '-' || (text_[pos_] >= '0' && text_[pos_] <= '9')) {
          return ParseNumber(out);
        }
        break;
    }
    return ErrorAt(start,
                   absl::StrCat("expected a value, got ", Shown(text_, start)));
  }

  absl::Status CheckDepth(int depth) const {
    if (depth > limits_.max_depth) {
      return ErrorAt(pos_, absl::StrCat("nested deeper than ",
                                        limits_.max_depth, " levels"));
    }
    return absl::OkStatus();
  }

  absl::Status ParseObject(int depth, JsonValue* out) {
    if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
    out->type = JsonType::kObject;
    ++pos_;  // '{'
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return absl::OkStatus();
    }
    while (true) {
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return ErrorAt(pos_, absl::StrCat("expected a string key, got ",
                                          Shown(text_, pos_)));
      }
      const size_t key_pos = pos_;
      JsonMember member;
      if (absl::Status s = ParseString(&member.key); !s.ok()) return s;
      for (const JsonMember& m : out->members) {
        if (m.key == member.key) {
          return ErrorAt(key_pos,
                         absl::StrCat("duplicate key ", JsonQuote(member.key)));
        }
      }
      SkipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':') {
        return ErrorAt(pos_, absl::StrCat("expected ':' after an object key, "
                                          "got ",
                                          Shown(text_, pos_)));
      }
      ++pos_;
      if (absl::Status s = ParseValue(depth, &member.value); !s.ok()) return s;
      out->members.push_back(std::move(member));
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return absl::OkStatus();
      }
      return ErrorAt(pos_, absl::StrCat("expected ',' or '}' in an object, "
                                        "got ",
                                        Shown(text_, pos_)));
    }
  }

  absl::Status ParseArray(int depth, JsonValue* out) {
    if (absl::Status s = CheckDepth(depth); !s.ok()) return s;
    out->type = JsonType::kArray;
    ++pos_;  // '['
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return absl::OkStatus();
    }
    while (true) {
      JsonValue item;
      if (absl::Status s = ParseValue(depth, &item); !s.ok()) return s;
      out->items.push_back(std::move(item));
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return absl::OkStatus();
      }
      return ErrorAt(pos_, absl::StrCat("expected ',' or ']' in an array, "
                                        "got ",
                                        Shown(text_, pos_)));
    }
  }

  // Four hex digits at pos_ → *cp; advances past them.
  bool Hex4(uint32_t* cp) {
    if (text_.size() - pos_ < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_ + i];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= c - '0';
      } else if (c >= 'a' && c <= 'f') {
        v |= c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        v |= c - 'A' + 10;
      } else {
        return false;
      }
    }
    pos_ += 4;
    *cp = v;
    return true;
  }

  absl::Status ParseString(std::string* out) {
    const size_t open = pos_;
    ++pos_;  // '"'
    while (true) {
      if (pos_ >= text_.size()) {
        return ErrorAt(open, "string not terminated");
      }
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return absl::OkStatus();
      }
      if (c < 0x20) {
        return ErrorAt(pos_,
                       absl::StrCat("control character ", Shown(text_, pos_),
                                    " in a string must be escaped"));
      }
      if (c >= 0x80) {
        size_t n = Utf8SequenceLength(text_.substr(pos_));
        if (n == 0) return ErrorAt(pos_, "invalid UTF-8 in a string");
        out->append(text_.data() + pos_, n);
        pos_ += n;
        continue;
      }
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      const size_t esc = pos_;
      ++pos_;
      if (pos_ >= text_.size()) return ErrorAt(open, "string not terminated");
      char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out->push_back(e);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) {
            return ErrorAt(esc, "\\u needs four hex digits");
          }
          if (cp >= 0xDC80 && cp <= 0xDCFF) {
            // surrogateescape: the byte AppendJsonString wrote this way.
            out->push_back(static_cast<char>(cp - 0xDC00));
            break;
          }
          if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return ErrorAt(esc, "lone low surrogate in a \\u escape");
          }
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t low;
            if (text_.substr(pos_, 2) != "\\u" || (pos_ += 2, !Hex4(&low)) ||
                low < 0xDC00 || low > 0xDFFF) {
              return ErrorAt(esc,
                             "high surrogate in a \\u escape not followed by "
                             "a \\u escape of a low surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          return ErrorAt(
              esc, absl::StrCat("unknown escape \\", Shown(text_, pos_ - 1)));
      }
    }
  }

  absl::Status ParseNumber(JsonValue* out) {
    const size_t start = pos_;
    auto digit = [&] {
      return pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9';
    };
    if (text_[pos_] == '-') ++pos_;
    if (!digit()) {
      return ErrorAt(
          pos_, absl::StrCat("expected a digit, got ", Shown(text_, pos_)));
    }
    if (text_[pos_] == '0') {
      ++pos_;
      if (digit()) return ErrorAt(start, "a number may not start with 0");
    } else {
      while (digit()) ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digit()) {
        return ErrorAt(pos_, absl::StrCat("expected a digit after '.', got ",
                                          Shown(text_, pos_)));
      }
      while (digit()) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) {
        ++pos_;
      }
      if (!digit()) {
        return ErrorAt(pos_, absl::StrCat("expected a digit in the exponent, "
                                          "got ",
                                          Shown(text_, pos_)));
      }
      while (digit()) ++pos_;
    }
    out->type = JsonType::kNumber;
    out->text = std::string(text_.substr(start, pos_ - start));
    // strtod on a NUL-terminated copy: the grammar above already holds.
    out->number = std::strtod(out->text.c_str(), nullptr);
    return absl::OkStatus();
  }

  absl::string_view text_;
  const JsonLimits& limits_;
  size_t pos_ = 0;
  size_t values_ = 0;
};

}  // namespace

const char* JsonTypeName(JsonType type) {
  switch (type) {
    case JsonType::kNull:
      return "null";
    case JsonType::kBool:
      return "boolean";
    case JsonType::kNumber:
      return "number";
    case JsonType::kString:
      return "string";
    case JsonType::kArray:
      return "array";
    case JsonType::kObject:
      return "object";
  }
  return "unknown";
}

const JsonValue* JsonValue::Find(absl::string_view key) const {
  if (type != JsonType::kObject) return nullptr;
  for (const JsonMember& m : members) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

absl::StatusOr<JsonValue> ParseJson(absl::string_view text,
                                    const JsonLimits& limits) {
  return Parser(text, limits).ParseDocument();
}

namespace {

constexpr char kJsonHex[] = "0123456789abcdef";

// 1 for bytes that need more than a plain copy inside a JSON string.
struct JsonClasses {
  unsigned char c[256] = {};
  constexpr JsonClasses() {
    for (int i = 0; i < 0x20; ++i) c[i] = 1;
    for (int i = 0x80; i < 0x100; ++i) c[i] = 1;
    c[static_cast<unsigned char>('"')] = 1;
    c[static_cast<unsigned char>('\\')] = 1;
  }
};
constexpr JsonClasses kJsonBytes;

}  // namespace

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* const e = p + s.size();
  while (p < e) {
    const unsigned char* run = p;
    // Eight bytes at a time while none needs care (SWAR: a byte >= 0x80,
    // a byte < 0x20, or a '"' or '\\' byte).
    while (e - p >= 8) {
      uint64_t x;
      std::memcpy(&x, p, 8);
      constexpr uint64_t kOnes = 0x0101010101010101ull;
      constexpr uint64_t kHigh = 0x8080808080808080ull;
      auto has_zero = [](uint64_t v) { return (v - kOnes) & ~v & kHigh; };
      if (((x & kHigh) | ((x - 0x20 * kOnes) & ~x & kHigh) |
           has_zero(x ^ ('"' * kOnes)) | has_zero(x ^ ('\\' * kOnes))) != 0) {
        break;
      }
      p += 8;
    }
    while (p < e && !kJsonBytes.c[*p]) ++p;
    out->append(reinterpret_cast<const char*>(run), p - run);
    if (p == e) break;
    unsigned char c = *p;
    if (c >= 0x80) {
      size_t n = Utf8SequenceLength(
          absl::string_view(reinterpret_cast<const char*>(p), e - p));
      if (n != 0) {
        out->append(reinterpret_cast<const char*>(p), n);
        p += n;
      } else {
        // surrogateescape: byte b → U+DC00+b.
        const char esc[] = {
            '\\', 'u', 'd', 'c', kJsonHex[c >> 4], kJsonHex[c & 15]};
        out->append(esc, sizeof(esc));
        ++p;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default: {
        const char esc[] = {
            '\\', 'u', '0', '0', kJsonHex[c >> 4], kJsonHex[c & 15]};
        out->append(esc, sizeof(esc));
      }
    }
    ++p;
  }
  out->push_back('"');
}

std::string JsonQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonString(s, &out);
  return out;
}

}  // namespace linx
