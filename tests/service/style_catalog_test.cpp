// The style catalogue on its own: built-in fast models and paintings, uploads that only their
// owner sees, thumbnails and sizes.
#include "service/style_catalog.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "service/service_files.h"
#include "store/disk_image_store.h"
#include "store/sqlite_job_store.h"

namespace pastiche::testing {
namespace {

TEST(StyleCatalog, BuiltinsUploadsOwnershipThumbnailsAndSizes) {
  ServiceFiles files;
  SqliteJobStore jobs(files.dir.file("jobs.db"));
  DiskImageStore images(files.dir.path() / "images");
  service::StyleCatalog catalog({files.models_dir}, files.styles_dir, true, jobs, images);

  EXPECT_EQ(catalog.builtin_count(), 3u);  // tiny, duo, stripes
  auto tiny = catalog.find("tiny", "alice-token-000001", false);
  ASSERT_TRUE(tiny);
  EXPECT_TRUE(tiny->fast);
  EXPECT_FALSE(tiny->gatys);
  auto duo = catalog.find("duo", "", false);
  ASSERT_TRUE(duo);
  EXPECT_EQ(duo->substyles, (std::vector<std::string>{"duo_0", "duo_1"}));
  auto stripes = catalog.find("stripes", "", false);
  ASSERT_TRUE(stripes);
  EXPECT_TRUE(stripes->gatys);
  EXPECT_EQ(stripes->title, "Stripes");  // from the JSON sidecar
  EXPECT_EQ(catalog.image_size(*stripes), cv::Size(64, 64));
  EXPECT_FALSE(catalog.find("nothing", "", true));

  // An upload: its owner (and an admin) find it; nobody else does.
  cv::Mat painting = synthetic_style_image(300, 150);
  auto up = catalog.add_upload("alice-token-000001", painting, "Mine", "Me", "A test");
  EXPECT_EQ(up.kind, "upload");
  EXPECT_TRUE(up.gatys);
  EXPECT_TRUE(catalog.find(up.id, "alice-token-000001", false));
  EXPECT_FALSE(catalog.find(up.id, "bob-token-00000002", false));
  EXPECT_TRUE(catalog.find(up.id, "bob-token-00000002", true));
  EXPECT_EQ(catalog.image_size(up), cv::Size(300, 150));
  EXPECT_EQ(catalog.style_image(up).size(), cv::Size(300, 150));
  auto thumb = catalog.thumbnail_jpeg(up);
  auto header = probe_image(thumb);
  EXPECT_EQ(header.format, "jpeg");
  EXPECT_LE(std::max(header.width, header.height), 256);
  size_t alice_sees = catalog.list("alice-token-000001").size();
  size_t bob_sees = catalog.list("bob-token-00000002").size();
  EXPECT_EQ(alice_sees, bob_sees + 1);

  catalog.remove_upload(up.id);
  EXPECT_FALSE(catalog.find(up.id, "alice-token-000001", true));
  EXPECT_FALSE(images.exists(service::style_image_key(up.id)));
}

}  // namespace
}  // namespace pastiche::testing
