// /api/batches: several photos painted in one style at once (one job each, submitted all or
// none), their progress together, and a zip of their results.
#include <zip.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/text.h"
#include "service/file_names.h"
#include "service/ids.h"
#include "service/job_submit.h"
#include "service/routes.h"

namespace pastiche::service {

using nlohmann::json;

namespace {

// How errors name the n-th photo (1-based): "content[2] (holiday.jpg)".
std::string photo_label(size_t index, const std::string& filename) {
  std::string label = "content[" + std::to_string(index + 1) + "]";
  if (!filename.empty()) label += " (" + printable(filename) + ")";
  return label;
}

void handle_create(Context& ctx, Call& c) {
  if (!c.req.is_multipart_form_data()) {
    throw InputError("content: required (multipart/form-data file fields 'content', 1 to " +
                     std::to_string(ctx.config.max_batch) + " of them)");
  }
  // Parts of one name keep the order they were sent in.
  std::vector<const http::FilePart*> photos;
  const auto [first, last] = c.req.files.equal_range("content");
  for (auto it = first; it != last; ++it) photos.push_back(&it->second);
  if (photos.empty()) throw InputError("content: required (one file part per photo)");
  if (photos.size() > static_cast<size_t>(ctx.config.max_batch)) {
    throw InputError("content: a batch takes at most " + std::to_string(ctx.config.max_batch) +
                     " photos (max_batch); this one has " + std::to_string(photos.size()));
  }
  check_can_submit(ctx, static_cast<int>(photos.size()));
  FormFields fields = form_fields(c.req, {"content"});
  for (const char* own : {"content_job", "init_job"}) {
    if (fields.count(own)) {
      throw InputError(std::string(own) + ": not accepted in a batch (send the photos as " +
                       "'content' file parts)");
    }
  }
  JobSpec spec = parse_job_request(fields, request_limits(ctx.config));
  std::string titles = check_styles(ctx, c, spec);

  // Every photo's header is checked before anything is stored: one bad photo refuses the batch
  // at once, naming it. Large parts are still on disk (http::PartFile): each is read when used,
  // so one photo at a time is in memory.
  for (size_t i = 0; i < photos.size(); ++i) {
    const std::string label = photo_label(i, photos[i]->filename);
    const int64_t size = photos[i]->size();
    if (size > ctx.config.max_upload_bytes) {
      throw TooLargeError(label + ": the file is " + std::to_string(size >> 10) +
                          " KiB; the limit is " +
                          std::to_string(ctx.config.max_upload_bytes >> 10) + " KiB");
    }
    if (size == 0) throw InputError(label + ": the file is empty");
    probe_upload(photos[i]->bytes(), ctx.config, label);
  }
  // Then one photo at a time is decoded and stored (one in memory at once); a failure removes
  // those stored before it, and nothing was queued.
  const std::string batch_id = new_id();
  Submission submission(ctx, c, std::move(spec), std::move(titles), batch_id);
  for (size_t i = 0; i < photos.size(); ++i) {
    const std::string label = photo_label(i, photos[i]->filename);
    try {
      submission.add(decode_photo(ctx, photos[i]->bytes(), label),
                     content_name_from_filename(photos[i]->filename));
    } catch (const TooLargeError&) {
      throw;
    } catch (const UnsupportedTypeError&) {
      throw;
    } catch (const InputError& e) {
      const std::string message = e.what();
      throw InputError(message.rfind(label, 0) == 0 ? message : label + ": " + message);
    }
  }
  const auto& jobs = submission.queue();
  ctx.log->info("batch {} queued: {} {} jobs ({})", batch_id, jobs.size(), jobs.front().method,
                jobs.front().style);
  json views = json::array();
  for (const auto& job : jobs) views.push_back(job_view(ctx, job));
  c.res.set_header("Location", "/api/batches/" + batch_id);
  send_json(c.res, 202, {{"id", batch_id}, {"jobs", views}});
}

// The batch's jobs the caller may see, in upload order; 404 when none.
std::vector<JobRecord> load_batch(Context& ctx, const Call& c, const std::string& id) {
  if (!is_valid_id(id)) throw HttpError(404, "no such batch");
  std::vector<JobRecord> jobs;
  for (auto& job : ctx.jobs.list_by_batch(id)) {
    if (c.admin || job.owner == c.client) jobs.push_back(std::move(job));
  }
  if (jobs.empty()) throw HttpError(404, "no such batch");
  return jobs;
}

void handle_get(Context& ctx, Call& c) {
  const std::string id = c.req.matches[1];
  const auto jobs = load_batch(ctx, c, id);
  json views = json::array();
  int done = 0;
  for (const auto& job : jobs) {
    views.push_back(job_view(ctx, job));
    done += job.status == JobStatus::done ? 1 : 0;
  }
  send_json(c.res, 200,
            {{"id", id},
             {"created_at", iso8601(jobs.front().created_ms)},
             {"jobs", views},
             {"done", done},
             {"total", static_cast<int>(jobs.size())}});
}

// libzip's archive, closed (and freed) however we leave.
struct ZipArchive {
  zip_source_t* buffer = nullptr;  // where the archive is written, in memory
  zip_t* zip = nullptr;
  ~ZipArchive() {
    if (zip) zip_discard(zip);
    if (buffer) zip_source_free(buffer);
  }
};

[[noreturn]] void zip_failure(const char* what, zip_error_t* error) {
  const std::string message = std::string("zip: ") + what + ": " + zip_error_strerror(error);
  throw std::runtime_error(message);
}

// An archive of `entries` (name, bytes), each stored as it is: PNG is compressed already. Built
// in memory; the entries are freed as soon as the archive holds them.
std::string zip_of(std::vector<std::pair<std::string, std::string>> entries) {
  ZipArchive a;
  zip_error_t error;
  zip_error_init(&error);
  a.buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (!a.buffer) zip_failure("cannot create a buffer", &error);
  a.zip = zip_open_from_source(a.buffer, ZIP_TRUNCATE, &error);
  if (!a.zip) zip_failure("cannot open the archive", &error);
  zip_source_keep(a.buffer);  // it outlives the archive: the bytes are read from it after close
  for (const auto& [name, bytes] : entries) {
    zip_source_t* data = zip_source_buffer(a.zip, bytes.data(), bytes.size(), 0);
    if (!data) zip_failure("cannot add an entry", zip_get_error(a.zip));
    const zip_int64_t index = zip_file_add(a.zip, name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      zip_source_free(data);
      zip_failure("cannot add an entry", zip_get_error(a.zip));
    }
    if (zip_set_file_compression(a.zip, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0) != 0) {
      zip_failure("cannot store an entry", zip_get_error(a.zip));
    }
  }
  if (zip_close(a.zip) != 0) zip_failure("cannot write the archive", zip_get_error(a.zip));
  a.zip = nullptr;
  std::vector<std::pair<std::string, std::string>>().swap(entries);
  // Read back as libzip's in-memory example does: open, measure, read.
  if (zip_source_open(a.buffer) != 0)
    zip_failure("cannot read the archive", zip_source_error(a.buffer));
  zip_source_seek(a.buffer, 0, SEEK_END);
  const zip_int64_t size = zip_source_tell(a.buffer);
  zip_source_seek(a.buffer, 0, SEEK_SET);
  std::string out(static_cast<size_t>(std::max<zip_int64_t>(size, 0)), '\0');
  const zip_int64_t n = zip_source_read(a.buffer, out.data(), out.size());
  zip_source_close(a.buffer);
  if (size <= 0 || n != size) zip_failure("cannot read the archive", zip_source_error(a.buffer));
  return out;
}

void handle_zip(Context& ctx, Call& c) {
  const auto jobs = load_batch(ctx, c, c.req.matches[1]);
  std::vector<std::string> names;
  std::vector<std::string> results;
  std::vector<const JobRecord*> fetched;
  for (const auto& job : jobs) {
    if (job.status != JobStatus::done) continue;
    auto bytes = ctx.images.get(result_key(job.id));
    if (!bytes) continue;  // removed meanwhile (the disk quota)
    names.push_back(job_download_name(job));
    results.push_back(std::move(*bytes));
    fetched.push_back(&job);
  }
  if (results.empty()) {
    throw HttpError(409, "batch: no result is ready yet (" + std::to_string(jobs.size()) +
                             " photos, none done); try again when one has finished");
  }
  names = deduplicated(names);
  std::vector<std::pair<std::string, std::string>> entries;
  for (size_t i = 0; i < names.size(); ++i) entries.emplace_back(names[i], std::move(results[i]));
  results.clear();
  std::string archive = zip_of(std::move(entries));
  const std::string filename = "pastiche-" +
                               style_slug(jobs.front().style_title, jobs.front().style) + "-" +
                               std::to_string(names.size()) + "-photos.zip";
  c.res.set_header("Content-Disposition", content_disposition("attachment", filename));
  c.res.set_header("Cache-Control", "private, no-cache");
  c.res.status = 200;
  c.res.set_content(std::move(archive), "application/zip");  // not copied: it can be large
  const int64_t now = now_ms();
  for (const auto* job : fetched) {
    if (job->fetched_ms == 0) ctx.jobs.mark_fetched(job->id, now);
  }
}

}  // namespace

void register_batch_routes(http::Router& http, Context& ctx) {
  http.Post("/api/batches", wrap(ctx, [&ctx](Call& c) { handle_create(ctx, c); }));
  http.Get(R"(/api/batches/([^/]+))", wrap(ctx, [&ctx](Call& c) { handle_get(ctx, c); }));
  http.Get(R"(/api/batches/([^/]+)/zip)", wrap(ctx, [&ctx](Call& c) { handle_zip(ctx, c); }));
}

}  // namespace pastiche::service
