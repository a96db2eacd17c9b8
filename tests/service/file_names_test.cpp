// The names of uploaded photos and downloaded results (service/file_names.h).
#include "service/file_names.h"

#include <gtest/gtest.h>

#include <string>

#include "common/text.h"

namespace pastiche::service {
namespace {

TEST(ContentName, KeepsTheBaseNameWithoutExtension) {
  EXPECT_EQ(content_name_from_filename("chicago.jpg"), "chicago");
  EXPECT_EQ(content_name_from_filename("IMG_2041.HEIC.png"), "IMG_2041-HEIC");
  EXPECT_EQ(content_name_from_filename("Holiday 2024 (1).JPG"), "Holiday-2024-1");
  EXPECT_EQ(content_name_from_filename("my-photo_v2.webp"), "my-photo_v2");
  EXPECT_EQ(content_name_from_filename("noextension"), "noextension");
}

TEST(ContentName, DropsPathsOfEitherKind) {
  EXPECT_EQ(content_name_from_filename("../../etc/passwd"), "passwd");
  EXPECT_EQ(content_name_from_filename("C:\\Users\\ann\\Pictures\\lake.jpeg"), "lake");
  EXPECT_EQ(content_name_from_filename("/abs/path/to/dir/"), "");
  EXPECT_EQ(content_name_from_filename(".."), "");
  EXPECT_EQ(content_name_from_filename(".bashrc"), "bashrc");  // a leading dot is no extension
}

TEST(ContentName, HostileCharactersBecomeOneDash) {
  EXPECT_EQ(content_name_from_filename("a\"b<c>d|e*f?.png"), "a-b-c-d-e-f");
  EXPECT_EQ(content_name_from_filename("x\r\nContent-Type: evil.png"), "x-Content-Type-evil");
  EXPECT_EQ(content_name_from_filename(std::string("nul\0byte.png", 12)), "nul-byte");
  EXPECT_EQ(content_name_from_filename("<script>alert(1)</script>.jpg"), "script");
  EXPECT_EQ(content_name_from_filename("--- ...jpg"), "");
  // Invalid UTF-8 (a lone continuation byte, a truncated sequence) and bidi controls.
  EXPECT_EQ(content_name_from_filename("ab\x80\xC3.png"), "ab");
  EXPECT_EQ(content_name_from_filename("left\u202Egnp.exe"), "left-gnp");
  EXPECT_EQ(content_name_from_filename("tab\there.png"), "tab-here");
}

TEST(ContentName, KeepsLettersOfEveryScript) {
  EXPECT_EQ(content_name_from_filename("Café au lait.jpg"), "Café-au-lait");
  EXPECT_EQ(content_name_from_filename("東京タワー.png"), "東京タワー");
  EXPECT_EQ(content_name_from_filename("Ελλάδα 2023.jpg"), "Ελλάδα-2023");
  EXPECT_EQ(content_name_from_filename("smile 😀 face.png"), "smile-face");  // symbols go
  EXPECT_EQ(content_name_from_filename("a\u3000b\uFF01c.png"), "a-b-c");    // CJK space, ！
  EXPECT_TRUE(is_valid_utf8(content_name_from_filename("日本\xE3\x81.png")));
}

TEST(ContentName, EmptyAndVeryLong) {
  EXPECT_EQ(content_name_from_filename(""), "");
  EXPECT_EQ(content_name_from_filename(".png"), "png");
  std::string long_name(500, 'x');
  EXPECT_EQ(content_name_from_filename(long_name + ".jpg"), std::string(60, 'x'));
  // Counted in characters, not bytes, and never cut inside one.
  std::string wide;
  for (int i = 0; i < 100; ++i) wide += "é";
  const std::string cut = content_name_from_filename(wide + ".png");
  EXPECT_TRUE(is_valid_utf8(cut));
  EXPECT_EQ(cut.size(), 60u * 2);
  // A cut that ends on a separator leaves no trailing '-'.
  EXPECT_EQ(content_name_from_filename(std::string(59, 'a') + " b.png"), std::string(59, 'a'));
}

TEST(Slug, LowerCaseAsciiWords) {
  EXPECT_EQ(slug("The Starry Night"), "the-starry-night");
  EXPECT_EQ(slug("  Café Terrace at Night!! "), "cafe-terrace-at-night");
  EXPECT_EQ(slug("Straße Łódź Œuvre"), "strasse-lodz-oeuvre");
  EXPECT_EQ(slug("Cafe\u0301"), "cafe");  // a combining accent
  EXPECT_EQ(slug("東京 tower"), "tower");
  EXPECT_EQ(slug("---"), "");
}

TEST(DownloadName, PhotoAndPainting) {
  EXPECT_EQ(download_name("chicago", "The Starry Night", "starry-night"),
            "chicago-the-starry-night.png");
  EXPECT_EQ(download_name("Holiday-2024-1", "Mosaic", "mosaic"), "holiday-2024-1-mosaic.png");
  EXPECT_EQ(download_name("chicago", "The Starry Night", "starry-night", "jpg"),
            "chicago-the-starry-night.jpg");
}

TEST(DownloadName, BlendsJoinTheirTitles) {
  EXPECT_EQ(download_name("lake", "The Starry Night + The Great Wave", "starry-night,wave"),
            "lake-the-starry-night-and-the-great-wave.png");
}

TEST(DownloadName, FallbacksWithoutNames) {
  EXPECT_EQ(download_name("", "The Scream", "scream"), "pastiche-the-scream.png");
  EXPECT_EQ(download_name("東京", "Mosaic", "mosaic"), "pastiche-mosaic.png");
  EXPECT_EQ(download_name("chicago", "", "starry-night,mosaic"),
            "chicago-starry-night-and-mosaic.png");
  EXPECT_EQ(download_name("", "", ""), "pastiche-painting.png");
}

TEST(DownloadName, AsciiAndAtMostAHundredCharacters) {
  const std::string content(60, 'c');
  const std::string title = "A Very Long Title Of A Painting That Goes On And On And On Forever";
  const std::string name = download_name(content, title + " + " + title, "x");
  EXPECT_LE(name.size(), kMaxDownloadNameChars);
  EXPECT_EQ(name.substr(name.size() - 4), ".png");
  EXPECT_EQ(name.rfind(content + "-a-very-long", 0), 0u) << name;
  EXPECT_NE(name[name.size() - 5], '-') << name;
  for (char c : name) EXPECT_TRUE(c >= 0x20 && c < 0x7F) << name;
}

TEST(DownloadName, Deduplicated) {
  EXPECT_EQ(deduplicated({"a.png", "b.png", "a.png", "a.png"}),
            (std::vector<std::string>{"a.png", "b.png", "a-2.png", "a-3.png"}));
  // A generated name never takes one that comes later in the list.
  EXPECT_EQ(deduplicated({"a.png", "a.png", "a-2.png"}),
            (std::vector<std::string>{"a.png", "a-3.png", "a-2.png"}));
  EXPECT_EQ(deduplicated({"x", "x"}), (std::vector<std::string>{"x", "x-2"}));
}

TEST(ContentDisposition, AsciiNamesAreQuoted) {
  EXPECT_EQ(content_disposition("attachment", "chicago-the-starry-night.png"),
            "attachment; filename=\"chicago-the-starry-night.png\"");
  EXPECT_EQ(content_disposition("inline", "a\"b\\c.png"),
            "inline; filename=\"a_b_c.png\"; filename*=UTF-8''a%22b%5Cc.png");
}

TEST(ContentDisposition, Rfc5987ForOtherNames) {
  EXPECT_EQ(content_disposition("attachment", "café.png"),
            "attachment; filename=\"caf_.png\"; filename*=UTF-8''caf%C3%A9.png");
  EXPECT_EQ(content_disposition("attachment", "a b\r\n.png"),
            "attachment; filename=\"a b__.png\"; filename*=UTF-8''a%20b%0D%0A.png");
}

}  // namespace
}  // namespace pastiche::service
