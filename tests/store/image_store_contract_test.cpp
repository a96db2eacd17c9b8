// The ImageStore contract on both backends (files on disk, bytea rows in PostgreSQL): atomic
// replacement, exact sizes across handles, confined keys, prefixes, binary bytes.
#include <gtest/gtest.h>

#include <thread>

#include "store_backends.h"

namespace pastiche::testing {
namespace {

class ImageStoreContract : public BackendTest {};

TEST_P(ImageStoreContract, AtomicPutsSizesAndSafeKeys) {
  auto h = backend().open();
  auto& images = h->images();
  images.put("jobs/abc/result.png", "12345");
  images.put("jobs/abc/thumb.jpg", "123");
  EXPECT_EQ(images.total_bytes(), 8);
  images.put("jobs/abc/result.png", "1");  // replace
  EXPECT_EQ(images.total_bytes(), 4);
  EXPECT_EQ(*images.get("jobs/abc/result.png"), "1");
  EXPECT_FALSE(images.get("jobs/abc/none.png"));
  for (const char* bad :
       {"../x", "/etc/passwd", "jobs/../../x", "jobs/.hidden", "Jobs/X", "a//b", ""}) {
    EXPECT_THROW(images.put(bad, "x"), std::invalid_argument) << bad;
    EXPECT_THROW(images.get(bad), std::invalid_argument) << bad;
    EXPECT_THROW(images.remove_prefix(bad), std::invalid_argument) << bad;
  }
  images.remove_prefix("jobs/abc/");
  EXPECT_EQ(images.total_bytes(), 0);
  EXPECT_FALSE(images.exists("jobs/abc/thumb.jpg"));
  images.put("jobs/x/a.png", "xx");
  auto reopened = backend().open();
  EXPECT_EQ(reopened->images().total_bytes(), 2);
  EXPECT_TRUE(reopened->images().exists("jobs/x/a.png"));
}

// A prefix removes what lies under it and nothing beside it (jobs/ab is not under jobs/a).
TEST_P(ImageStoreContract, RemovePrefixTouchesOnlyWhatIsUnderIt) {
  auto h = backend().open();
  auto& images = h->images();
  images.put("jobs/a/x.png", "1");
  images.put("jobs/a/deep/y.png", "22");
  images.put("jobs/ab/z.png", "333");
  images.put("jobs/a0/z.png", "4444");
  images.put("styles/a/s.png", "55555");
  images.remove_prefix("jobs/a");  // no trailing '/': the folder jobs/a
  EXPECT_FALSE(images.exists("jobs/a/x.png"));
  EXPECT_FALSE(images.exists("jobs/a/deep/y.png"));
  EXPECT_TRUE(images.exists("jobs/ab/z.png"));
  EXPECT_TRUE(images.exists("jobs/a0/z.png"));
  EXPECT_EQ(images.total_bytes(), 12);
  images.remove_prefix("jobs/ab/");
  images.remove_prefix("jobs/none/");  // nothing there: no change
  images.remove("jobs/a0/z.png");
  images.remove("jobs/a0/z.png");  // twice: no change
  EXPECT_EQ(images.total_bytes(), 5);
}

TEST_P(ImageStoreContract, BinaryBytesRoundTrip) {
  auto h = backend().open();
  std::string bytes;
  for (int i = 0; i < 70'000; ++i) bytes.push_back(static_cast<char>(i * 7919 % 256));
  h->images().put("jobs/b/result.png", bytes);
  EXPECT_EQ(*h->images().get("jobs/b/result.png"), bytes);
  h->images().put("jobs/b/empty.png", "");
  EXPECT_EQ(*h->images().get("jobs/b/empty.png"), "");
  EXPECT_EQ(h->images().total_bytes(), 70'000);
}

// Several writers and removers of the same keys from their own handles: the total stays exact.
TEST_P(ImageStoreContract, ConcurrentWritersKeepTheTotalExact) {
  auto first = backend().open();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto h = backend().open();
      for (int i = 0; i < 40; ++i) {
        std::string key = "jobs/shared/k" + std::to_string(i % 5) + ".png";
        if (i % 6 == 5) {
          h->images().remove(key);
        } else if (t == 3 && i % 13 == 12) {
          h->images().remove_prefix("jobs/shared/");
        } else {
          h->images().put(key, std::string(static_cast<size_t>(1 + (t * 25 + i) % 7), 'x'));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  int64_t sum = 0;
  for (int i = 0; i < 5; ++i) {
    auto bytes = first->images().get("jobs/shared/k" + std::to_string(i) + ".png");
    sum += bytes ? static_cast<int64_t>(bytes->size()) : 0;
  }
  auto reopened = backend().open();
  EXPECT_EQ(reopened->images().total_bytes(), sum);
}

PASTICHE_INSTANTIATE_IMAGE_BACKENDS(ImageStoreContract);

}  // namespace
}  // namespace pastiche::testing
