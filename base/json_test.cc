#include "base/json.h"

#include <string>

#include "base/op_error.h"
#include "base/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linx {
namespace {

using ::linx::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseJsonTest, ParsesEveryKindOfValue) {
  absl::StatusOr<JsonValue> v = ParseJson(
      R"( {"a": [1, -2.5e3, 0, true, false, null], "b": {"c": "d"}, "e": {}} )");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_TRUE(v->is_object());
  ASSERT_EQ(v->members.size(), 3u);
  EXPECT_EQ(v->members[0].key, "a");
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 6u);
  EXPECT_EQ(a->items[0].number, 1);
  EXPECT_EQ(a->items[1].number, -2500);
  EXPECT_EQ(a->items[1].text, "-2.5e3");
  EXPECT_EQ(a->items[3].type, JsonType::kBool);
  EXPECT_TRUE(a->items[3].boolean);
  EXPECT_FALSE(a->items[4].boolean);
  EXPECT_TRUE(a->items[5].is_null());
  EXPECT_EQ(v->Find("b")->Find("c")->text, "d");
  EXPECT_TRUE(v->Find("e")->members.empty());
  EXPECT_EQ(v->Find("zz"), nullptr);
  EXPECT_EQ(a->Find("a"), nullptr);  // not an object
}

TEST(ParseJsonTest, DecodesEveryEscape) {
  struct Case {
    const char* json;
    std::string want;
  } cases[] = {
      {R"("\"\\\/\b\f\n\r\t")", "\"\\/\b\f\n\r\t"},
      {R"("\u0041\u00e9\u20AC")", "A\xc3\xa9\xe2\x82\xac"},
      {R"("\ud83d\ude00")", "\xf0\x9f\x98\x80"},  // U+1F600, a pair
      {R"("\uDBFF\uDFFF")", "\xf4\x8f\xbf\xbf"},  // U+10FFFF
      {R"("\u0000x")", std::string("\0x", 2)},
      // surrogateescape: a lone \udc80..\udcff is that raw byte
      {R"("a\udcffb\udc80")",
       "a\xff"
       "b\x80"},
      {"\"\xc3\xa9\xf0\x9f\x98\x80\"", "\xc3\xa9\xf0\x9f\x98\x80"},  // raw
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    absl::StatusOr<JsonValue> v = ParseJson(c.json);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->text, c.want);
  }
}

TEST(ParseJsonTest, RefusesBadInputWithLineAndColumn) {
  struct Case {
    std::string json;
    std::string message;
  } cases[] = {
      {"", "line 1, column 1: expected a value, got end of input"},
      {"{\n  \"a\" 1}", "line 2, column 7: expected ':' after an object key"},
      {"[1,]", "line 1, column 4: expected a value, got ']'"},
      {"[1 2]", "expected ',' or ']' in an array, got '2'"},
      {"{\"a\":1,}", "expected a string key, got '}'"},
      {"{\"a\":1 \"b\":2}", "expected ',' or '}' in an object"},
      {R"({"a":1,"a":2})", "line 1, column 8: duplicate key \"a\""},
      {"\"abc", "string not terminated"},
      {"\"a\nb\"", "control character byte 0x0a in a string must be escaped"},
      {R"("\x")", "unknown escape \\'x'"},
      {R"("\u12")", "\\u needs four hex digits"},
      {R"("\ud83d")", "high surrogate"},
      {R"("\ud83d\u0041")", "high surrogate"},
      {R"("\ude00")", "lone low surrogate"},
      {R"("\udc7f")", "lone low surrogate"},  // below surrogateescape's bytes
      {R"("\udd00")", "lone low surrogate"},  // above them
      {"\"\xc0\xaf\"", "invalid UTF-8"},      // overlong '/'
      {"\"\xed\xa0\x80\"", "invalid UTF-8"},  // raw surrogate
      {"\"\xf4\x90\x80\x80\"", "invalid UTF-8"},  // above U+10FFFF
      {"\"\xe2\x82\"", "invalid UTF-8"},          // truncated
      {"01", "a number may not start with 0"},
      {"-", "expected a digit, got end of input"},
      {"1.", "expected a digit after '.'"},
      {"1e+", "expected a digit in the exponent"},
      {"+1", "expected a value, got '+'"},
      {".5", "expected a value, got '.'"},
      {"NaN", "expected a value, got 'N'"},
      {"tru", "expected a value, got 't'"},
      {"nul", "expected a value"},
      {"1 2", "line 1, column 3: expected the end of input after the value"},
      {"{} x", "expected the end of input"},
      {std::string("[1]\0", 4), "got byte 0x00"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    absl::StatusOr<JsonValue> v = ParseJson(c.json);
    EXPECT_THAT(v.status(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr(c.message)));
    std::optional<OpError> e = GetOpError(v.status());
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->operation, "json");
    EXPECT_EQ(e->stage, Stage::kBadArgument);
    EXPECT_THAT(v.status().message(), HasSubstr("json line "));
  }
}

TEST(ParseJsonTest, EnforcesDepthSizeAndValueLimits) {
  JsonLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(ParseJson("[[[1]]]", limits).ok());
  EXPECT_THAT(ParseJson("[[[[1]]]]", limits).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("nested deeper than 3 levels")));
  EXPECT_THAT(
      ParseJson(R"({"a":{"b":{"c":{}}}})", limits).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nested deeper")));
  // The default depth stops a deep document long before the stack would.
  std::string deep(100000, '[');
  EXPECT_THAT(ParseJson(deep).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("nested deeper than 64 levels")));

  limits = JsonLimits();
  limits.max_bytes = 8;
  EXPECT_TRUE(ParseJson("[1,2,3]", limits).ok());
  EXPECT_THAT(ParseJson("[1,2,3,4]", limits).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("line 1, column 1: input is 9 bytes, more "
                                 "than the limit of 8")));

  limits = JsonLimits();
  limits.max_values = 4;
  EXPECT_TRUE(ParseJson("[1,2,3]", limits).ok());  // 4 values
  EXPECT_THAT(
      ParseJson("[1,2,3,4]", limits).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 4")));
}

TEST(ParseJsonTest, ErrorPayloadNamesLineAndColumn) {
  absl::StatusOr<JsonValue> v = ParseJson("{\n\n   x");
  std::optional<OpError> e = GetOpError(v.status());
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->value, "3:4");
}

TEST(JsonQuoteTest, EscapesAndKeepsUtf8) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\t\x01\x7f"),
            "\"a\\\"b\\\\c\\n\\t\\u0001\x7f\"");
  EXPECT_EQ(JsonQuote("\xc3\xa9"), "\"\xc3\xa9\"");
  // A byte that is not UTF-8: surrogateescape, as `linx list --json`.
  EXPECT_EQ(JsonQuote("a\xff"
                      "b"),
            R"("a\udcffb")");
  EXPECT_EQ(JsonQuote(std::string("\0", 1)), R"("\u0000")");
}

TEST(JsonQuoteTest, RoundTripsThroughTheParser) {
  for (std::string s :
       {std::string("plain"), std::string("\"\\/\b\f\n\r\t"),
        std::string("\x01\x1f \xe2\x82\xac"), std::string("nul\0inside", 10),
        std::string("stray \xff\xc0\xaf\xed\xa0\x80 bytes"),
        std::string("\\udcff, the text")}) {
    SCOPED_TRACE(s);
    absl::StatusOr<JsonValue> v = ParseJson(JsonQuote(s));
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->text, s);
  }
}

}  // namespace
}  // namespace linx
