#include "mountinfo/format.h"

#include <dirent.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "mountinfo/mountinfo.h"

namespace linx {
namespace {

using ::testing::HasSubstr;

// A strict decoder for one JSON string literal that undoes surrogateescape:
// \udc80..\udcff become the raw bytes 0x80..0xff. Returns false on anything
// that is not a well-formed JSON string.
bool JsonStringToBytes(absl::string_view j, std::string* out) {
  out->clear();
  if (j.size() < 2 || j.front() != '"' || j.back() != '"') return false;
  j = j.substr(1, j.size() - 2);
  auto hex4 = [](absl::string_view h, uint32_t* v) {
    if (h.size() < 4) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = h[i];
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return false;
      *v = *v * 16 + d;
    }
    return true;
  };
  for (size_t i = 0; i < j.size(); ++i) {
    unsigned char c = j[i];
    if (c < 0x20 || c == '"') return false;  // must have been escaped
    if (c != '\\') {
      out->push_back(static_cast<char>(c));
      continue;
    }
    if (++i >= j.size()) return false;
    switch (j[i]) {
      case '"':
        out->push_back('"');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '/':
        out->push_back('/');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'u': {
        uint32_t v;
        if (!hex4(j.substr(i + 1), &v)) return false;
        i += 4;
        if (v >= 0xDC80 && v <= 0xDCFF) {
          out->push_back(static_cast<char>(v - 0xDC00));
        } else if (v < 0x80) {
          out->push_back(static_cast<char>(v));
        } else {
          return false;  // AppendJsonString never writes other \u escapes
        }
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

std::string Json(absl::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(AppendJsonStringTest, Table) {
  struct {
    const char* name;
    std::string in;
    std::string want;
  } cases[] = {
      {"plain", "/sys", "\"/sys\""},
      {"quote_backslash", "a\"b\\c", "\"a\\\"b\\\\c\""},
      {"controls", std::string("\n\t\r\b\f\x01\x1f", 7),
       "\"\\n\\t\\r\\b\\f\\u0001\\u001f\""},
      {"nul", std::string("a\0b", 3), "\"a\\u0000b\""},
      {"utf8_kept",
       "/tmp/\xe2\x80\x9ezupa z\xc4\x99"
       "bowa",
       "\"/tmp/\xe2\x80\x9ezupa z\xc4\x99"
       "bowa\""},
      {"noncharacter_kept", "\xef\xbf\xbe", "\"\xef\xbf\xbe\""},
      {"four_byte_kept", "\xf0\x9f\x91\xbe", "\"\xf0\x9f\x91\xbe\""},
      {"lone_ff", "/\xff", "\"/\\udcff\""},
      {"truncated_seq", "\xe2\x80", "\"\\udce2\\udc80\""},
      {"overlong", "\xc0\xaf", "\"\\udcc0\\udcaf\""},
      {"surrogate_bytes", "\xed\xa0\x80", "\"\\udced\\udca0\\udc80\""},
      {"above_max", "\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\""},
      {"escaped_lookalike", "\\udcff",
       "\"\\\\udcff\""},  // the text, not a byte: unambiguous
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Json(c.in), c.want);
  }
}

TEST(AppendJsonStringTest, EveryByteStringRoundTrips) {
  // All single bytes, all byte pairs, and some mixed sequences.
  std::string all;
  for (int b = 0; b < 256; ++b) {
    std::string s(1, static_cast<char>(b));
    std::string back;
    ASSERT_TRUE(JsonStringToBytes(Json(s), &back)) << b;
    EXPECT_EQ(back, s) << b;
    all.push_back(static_cast<char>(b));
  }
  for (int a = 0x80; a < 256; ++a) {
    for (int b = 0; b < 256; b += 7) {
      std::string s = {static_cast<char>(a), static_cast<char>(b), 'x'};
      std::string back;
      ASSERT_TRUE(JsonStringToBytes(Json(s), &back));
      EXPECT_EQ(back, s);
    }
  }
  std::string back;
  ASSERT_TRUE(JsonStringToBytes(Json(all + all), &back));
  EXPECT_EQ(back, all + all);
}

TEST(AppendMountTableJsonTest, MatchesTheDocumentedShape) {
  absl::StatusOr<MountTable> t = ParseMountInfo(
      "24 1 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
      "12 1 8-1 / / rw - ext4 /dev/sda1 rw\n"
      "25 24 0:23 / /a\\040b\xff rw master:3 propagate_from:2 unbindable - "
      "tmpfs  rw\n");
  ASSERT_TRUE(t.ok());
  std::string out;
  AppendMountTableJson(*t, &out);
  EXPECT_EQ(
      out,
      "{\"mounts\": [{\"id\": 24, \"parent_id\": 1, \"major\": 0, \"minor\": "
      "22, \"root\": \"/\", \"target\": \"/sys\", \"vfs_options\": "
      "\"rw,nosuid\", \"optional_fields\": [\"shared:7\"], \"shared\": 7, "
      "\"master\": null, \"propagate_from\": null, \"unbindable\": false, "
      "\"fstype\": \"sysfs\", \"source\": \"sysfs\", \"fs_options\": \"rw\"}, "
      "{\"id\": 25, \"parent_id\": 24, \"major\": 0, \"minor\": 23, \"root\": "
      "\"/\", \"target\": \"/a b\\udcff\", \"vfs_options\": \"rw\", "
      "\"optional_fields\": [\"master:3\", \"propagate_from:2\", "
      "\"unbindable\"], \"shared\": null, \"master\": 3, \"propagate_from\": "
      "2, \"unbindable\": true, \"fstype\": \"tmpfs\", \"source\": \"\", "
      "\"fs_options\": \"rw\"}], \"skipped\": [{\"line\": 2, \"field\": "
      "\"major:minor\", \"reason\": \"got \\\"8-1\\\"\"}]}");
}

TEST(AppendMountTableJsonTest, EmptyTable) {
  absl::StatusOr<MountTable> t = ParseMountInfo("");
  ASSERT_TRUE(t.ok());
  std::string out;
  AppendMountTableJson(*t, &out);
  EXPECT_EQ(out, "{\"mounts\": [], \"skipped\": []}");
}

TEST(AppendMountTableTextTest, AlignedColumnsAndEscapedBlanks) {
  absl::StatusOr<MountTable> t = ParseMountInfo(
      "24 1 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
      "250 24 0:23 / /a\\040b\\012c rw - tmpfs  rw,size=1k\n");
  ASSERT_TRUE(t.ok());
  std::string out;
  AppendMountTableText(*t, &out);
  EXPECT_EQ(out,
            "ID  PARENT MAJ:MIN TARGET       SOURCE FSTYPE PROPAGATION "
            "OPTIONS\n"
            "24  1      0:22    /sys         sysfs  sysfs  shared:7    "
            "rw,nosuid rw\n"
            "250 24     0:23    /a\\040b\\012c        tmpfs  private     "
            "rw rw,size=1k\n");
}

TEST(AppendMountTableTextTest, PaddingStopsAtMaxPaddedColumn) {
  absl::StatusOr<MountTable> t =
      ParseMountInfo("1 0 0:1 / /" + std::string(5000, 'x') +
                     " rw - tmpfs t rw\n"
                     "2 1 0:2 / /short rw - tmpfs t rw\n");
  ASSERT_TRUE(t.ok()) << t.status();
  std::string out;
  AppendMountTableText(*t, &out);
  size_t short_row = out.find("\n2 ");
  ASSERT_NE(short_row, std::string::npos);
  size_t end = out.find('\n', short_row + 1);
  // ID, PARENT, MAJ:MIN, then TARGET padded to at most kMaxPaddedColumn.
  EXPECT_LT(end - short_row, kMaxPaddedColumn + 80) << out.substr(short_row);
  // The long value itself is printed whole, followed by one blank.
  EXPECT_NE(out.find(std::string(5000, 'x') + " t "), std::string::npos);
}

TEST(PropagationSummaryTest, Table) {
  absl::StatusOr<MountTable> t = ParseMountInfo(
      "1 1 0:1 / / rw - t s rw\n"
      "2 1 0:1 / / rw shared:1 master:2 - t s rw\n"
      "3 1 0:1 / / rw unbindable - t s rw\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(PropagationSummary((*t)[0]), "private");
  EXPECT_EQ(PropagationSummary((*t)[1]), "shared:1,master:2");
  EXPECT_EQ(PropagationSummary((*t)[2]), "unbindable");
}

}  // namespace
}  // namespace linx

namespace linx {
namespace {

TEST(WriteMountTableJsonTest, ChunkedOutputEqualsAppendedOutput) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&text, i + 1, " 1 0:", i, " / /m\\040", i,
                    " rw shared:1 - tmpfs \xff", i, " rw\n");
  }
  text += "bad line\n";
  absl::StatusOr<MountTable> t = ParseMountInfo(text);
  ASSERT_TRUE(t.ok());
  std::string whole;
  AppendMountTableJson(*t, &whole);
  for (size_t chunk : {size_t{1}, size_t{100}, size_t{4096}, size_t{1} << 20}) {
    SCOPED_TRACE(chunk);
    std::string joined;
    int pieces = 0;
    EXPECT_TRUE(WriteMountTableJson(*t, chunk, [&](absl::string_view p) {
      joined.append(p.data(), p.size());
      ++pieces;
      return true;
    }));
    EXPECT_EQ(joined, whole);
    if (chunk == 1) {
      EXPECT_GT(pieces, 200);
    }
  }
  // A failing sink stops the writer.
  int calls = 0;
  EXPECT_FALSE(WriteMountTableJson(*t, 1, [&](absl::string_view) {
    ++calls;
    return false;
  }));
  EXPECT_EQ(calls, 1);
}

// The MountInfo overloads (ListMounts() results) print exactly what the
// MountTable ones print for the same mounts, on every corpus file: the
// table, the propagation column, and the JSON up to the "skipped" array,
// which the owned form always leaves empty.
TEST(OwnedOverloadsTest, SameOutputAsTheTableOnEveryCorpusFile) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  std::string dir = absl::StrCat(srcdir ? srcdir : ".", "/", ws ? ws : "linx",
                                 "/mountinfo/testdata/corpus");
  DIR* d = ::opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  int files = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name.size() < 4 || name.substr(name.size() - 4) != ".txt") continue;
    SCOPED_TRACE(name);
    ++files;
    std::ifstream f(dir + "/" + name, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    absl::StatusOr<MountTable> t = ParseMountInfo(ss.str());
    ASSERT_TRUE(t.ok()) << t.status();
    std::vector<MountInfo> owned = t->ToMountInfos();
    std::string a, b;
    AppendMountTableText(*t, &a);
    AppendMountTableText(owned, &b);
    EXPECT_EQ(a, b);
    for (size_t i = 0; i < owned.size(); ++i) {
      EXPECT_EQ(PropagationSummary((*t)[i]), PropagationSummary(owned[i]));
    }
    std::string ja, jb;
    AppendMountTableJson(*t, &ja);
    ASSERT_TRUE(WriteMountTableJson(owned, 64, [&](absl::string_view p) {
      jb.append(p.data(), p.size());
      return true;
    }));
    const std::string kSkipped = "], \"skipped\": [";
    size_t cut = ja.rfind(kSkipped);
    ASSERT_NE(cut, std::string::npos);
    EXPECT_EQ(jb, ja.substr(0, cut) + kSkipped + "]}");
  }
  ::closedir(d);
  EXPECT_GT(files, 80);
}

}  // namespace
}  // namespace linx
