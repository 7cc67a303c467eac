#include "tools/option_scanner.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace linx::tools {
namespace {

struct Seen {
  std::string arg, name, value;
  bool inline_value = false;
  bool took = false;
};

// Scans `argv` (argv[0] is the command), taking a value for every name in
// `with_value`.
std::vector<Seen> Scan(std::vector<std::string> argv,
                       const std::vector<std::string>& with_value) {
  std::vector<char*> raw;
  for (std::string& a : argv) raw.push_back(a.data());
  OptionScanner args(static_cast<int>(raw.size()), raw.data());
  std::vector<Seen> out;
  while (args.Next()) {
    Seen s{std::string(args.arg()), std::string(args.name()), "",
           args.has_inline_value(), false};
    for (const std::string& n : with_value) {
      absl::string_view v;
      if (args.name() == n && (s.took = args.TakeValue(&v))) {
        s.value = std::string(v);
      }
    }
    out.push_back(s);
  }
  return out;
}

TEST(OptionScannerTest, SeparateAndInlineValuesReadAlike) {
  std::vector<Seen> s =
      Scan({"list", "--pid", "7", "--file=/x=y", "--json", "path"},
           {"--pid", "--file"});
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].name, "--pid");
  EXPECT_TRUE(s[0].took);
  EXPECT_EQ(s[0].value, "7");
  EXPECT_FALSE(s[0].inline_value);
  EXPECT_EQ(s[1].arg, "--file=/x=y");
  EXPECT_EQ(s[1].name, "--file");
  EXPECT_EQ(s[1].value, "/x=y");  // split at the first '=' only
  EXPECT_TRUE(s[1].inline_value);
  EXPECT_EQ(s[2].name, "--json");
  EXPECT_FALSE(s[2].took);
  EXPECT_EQ(s[3].arg, "path");
}

TEST(OptionScannerTest, MissingValueAtTheEnd) {
  std::vector<Seen> s = Scan({"list", "--pid"}, {"--pid"});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_FALSE(s[0].took);
}

TEST(OptionScannerTest, OnlyDoubleDashArgumentsAreSplit) {
  std::vector<Seen> s = Scan({"find", "-x=1", "a=b", "--=c"}, {});
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, "-x=1");
  EXPECT_FALSE(s[0].inline_value);
  EXPECT_EQ(s[1].name, "a=b");
  EXPECT_EQ(s[2].name, "--");
  EXPECT_TRUE(s[2].inline_value);
}

TEST(OptionScannerTest, EmptyInlineValueIsAValue) {
  std::vector<Seen> s = Scan({"find", "--backend=", "p"}, {"--backend"});
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(s[0].took);
  EXPECT_EQ(s[0].value, "");
  EXPECT_EQ(s[1].arg, "p");  // not consumed as the value
}

}  // namespace
}  // namespace linx::tools
