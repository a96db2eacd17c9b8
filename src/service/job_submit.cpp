#include "service/job_submit.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "common/error.h"
#include "image/image_io.h"
#include "service/ids.h"
#include "service/job_estimate.h"

namespace pastiche::service {

RequestLimits request_limits(const ServerConfig& config) {
  RequestLimits limits;
  limits.max_size = config.max_size;
  limits.max_steps = config.max_steps;
  return limits;
}

// Style ids -> catalog entries, checked against the method. Returns the titles joined.
std::string check_styles(Context& ctx, const Call& c, const JobSpec& r) {
  if (r.method == JobMethod::gatys && !ctx.engines.gatys_available()) {
    throw InputError("method: gatys is not available on this server: " +
                     ctx.engines.gatys_unavailable_reason);
  }
  std::string titles;
  for (const auto& id : r.styles) {
    auto style = ctx.styles.find(id, c.client, c.admin);
    if (!style) throw InputError("style: unknown style '" + id + "' (see GET /api/styles)");
    if (r.method == JobMethod::fast) {
      if (!style->fast) {
        throw InputError("style: '" + id + "' has no fast model; use method gatys");
      }
      if (!r.style_mix.empty()) {
        if (style->substyles.empty()) {
          throw InputError("style_mix: '" + id + "' is a single-style model");
        }
        for (const auto& [name, w] : r.style_mix) {
          if (std::find(style->substyles.begin(), style->substyles.end(), name) ==
              style->substyles.end()) {
            throw InputError("style_mix: '" + name + "' is not a style of '" + id + "'");
          }
        }
      }
    } else if (r.method == JobMethod::arbitrary) {
      if (!ctx.engines.arbitrary_available()) {
        throw InputError("method: arbitrary is not available on this server: " +
                         ctx.engines.arbitrary_unavailable_reason);
      }
      if (!style->has_painting()) {
        throw InputError("style: '" + id + "' has no painting image for the arbitrary method; " +
                         "use method fast");
      }
    } else {
      if (!ctx.engines.gatys_available()) {
        throw InputError("method: gatys is not available on this server: " +
                         ctx.engines.gatys_unavailable_reason);
      }
      if (!style->gatys) {
        throw InputError("style: '" + id + "' has no painting image for the gatys method; " +
                         "use method fast");
      }
    }
    titles += (titles.empty() ? "" : " + ") + style->title;
  }
  return titles;
}

namespace {

// Queues the jobs (one, or a batch) under the queue bound and the client's fair-share caps,
// atomically (every node together), all or none; a refusal is a 429 naming the cap, with when
// to retry. A batch counts whole: the caps see each of its jobs.
void enqueue_fairly(Context& ctx, const std::vector<JobRecord>& jobs,
                    const std::vector<double>& estimates) {
  const JobRecord& job = jobs.front();
  EnqueueOptions options;
  options.max_queued = ctx.config.max_queue;
  auto cap = ctx.config.max_jobs_per_client.find(job.method);
  options.max_client_jobs = cap == ctx.config.max_jobs_per_client.end() ? 0 : cap->second;
  options.max_client_seconds = ctx.config.max_work_per_client_s;
  const EnqueueResult r = ctx.queue.enqueue_all(jobs, estimates, options);
  if (r.ok()) return;
  auto seconds = [](double s) { return std::to_string(std::lround(s)) + " s"; };
  const double total = std::accumulate(estimates.begin(), estimates.end(), 0.0);
  const int n = static_cast<int>(jobs.size());
  // The batch's jobs the queue had taken when it refused one (rolled back since).
  const int before = std::max(0, r.refused_index);
  const double before_s = std::accumulate(estimates.begin(), estimates.begin() + before, 0.0);
  switch (r.refused) {
    case EnqueueResult::Refusal::none:
      return;
    case EnqueueResult::Refusal::queue_full:
      if (before == 0) throw QueueFull();
      throw HttpError(429,
                      "queue: the job queue has room for " + std::to_string(before) +
                          " more jobs, not the " + std::to_string(n) +
                          " of this batch; retry shortly, or send fewer photos",
                      retry_after_seconds(ctx));
    case EnqueueResult::Refusal::client_jobs: {
      const int64_t existing = r.client_jobs - before;
      // About when one of them finishes: their average estimate.
      const double retry =
          std::clamp(r.client_lane_seconds / std::max<int64_t>(1, r.client_jobs), 1.0, 3600.0);
      if (n == 1) {
        throw HttpError(429,
                        "client job cap: this client already has " + std::to_string(r.client_jobs) +
                            " queued or running " + job.method +
                            " jobs, the most one client may have; retry when one has finished",
                        retry);
      }
      throw HttpError(429,
                      "client job cap: this client has " + std::to_string(existing) +
                          " queued or running " + job.method + " jobs and this batch adds " +
                          std::to_string(n) + ", over the " +
                          std::to_string(options.max_client_jobs) +
                          " one client may have; retry when some have finished, or send fewer "
                          "photos",
                      retry);
    }
    case EnqueueResult::Refusal::client_seconds: {
      const double existing = r.client_seconds - before_s;
      const double retry = std::clamp(existing + total - options.max_client_seconds, 1.0, 3600.0);
      throw HttpError(
          429,
          "client work cap: this client's queued and running jobs add up to about " +
              seconds(existing) + " of work and this " + (n == 1 ? "one" : "batch") + " to " +
              seconds(total) + ", over the " + seconds(options.max_client_seconds) +
              " one client may have waiting; retry when some have finished, or ask for less "
              "(a smaller size, fewer steps" +
              (n == 1 ? "" : ", fewer photos") + ")",
          retry);
    }
  }
}

// An upper bound for what a job's output adds to the image store: the result as an
// uncompressed-size PNG (photos compress less than one would hope), its thumbnail and preview.
int64_t stored_result_bytes(const JobSpec& r, const cv::Size& content) {
  int longest = r.output_size();
  double scale = static_cast<double>(longest) / std::max(content.width, content.height);
  int64_t pixels = static_cast<int64_t>(content.width * scale + 1) *
                   static_cast<int64_t>(content.height * scale + 1);
  return pixels * 3 + 256 * 1024;
}

// init_job's result, the picture a Gatys job starts from: the caller's own finished job, of the
// photo's shape (it is resized to each level, and another shape would be stretched).
std::string init_picture(Context& ctx, const Call& c, const std::string& id,
                         const cv::Size& content) {
  if (!is_valid_id(id)) throw HttpError(404, "init_job: no such job");
  auto source = ctx.jobs.get(id);
  if (!source || (!c.admin && source->owner != c.client))
    throw HttpError(404, "init_job: no such job");
  auto bytes = ctx.images.get(result_key(source->id));
  if (!bytes) {
    throw HttpError(409, source->status == JobStatus::done
                             ? "init_job: the result of that job was deleted"
                             : "init_job: that job has no result yet (it is " +
                                   std::string(to_string(source->status)) + ")");
  }
  const auto header = probe_image(*bytes);
  const double a = static_cast<double>(header.width) / header.height;
  const double b = static_cast<double>(content.width) / content.height;
  if (std::abs(a - b) > 0.02 * b) {
    throw InputError("init_job: its result is " + std::to_string(header.width) + "x" +
                     std::to_string(header.height) + ", not the shape of this photo (" +
                     std::to_string(content.width) + "x" + std::to_string(content.height) +
                     "); start from a result of the same photo");
  }
  return std::move(*bytes);
}

}  // namespace

void check_can_submit(Context& ctx, int jobs) {
  if (ctx.stopping) throw HttpError(503, "the server is shutting down", 5);
  const int64_t queued = queued_total(ctx);
  if (queued >= ctx.config.max_queue) throw QueueFull();
  if (queued + jobs > ctx.config.max_queue) {
    throw HttpError(429,
                    "queue: the job queue has room for " +
                        std::to_string(ctx.config.max_queue - queued) + " more jobs, not the " +
                        std::to_string(jobs) +
                        " of this batch; retry shortly, or send fewer "
                        "photos",
                    retry_after_seconds(ctx));
  }
}

Photo decode_photo(Context& ctx, const std::string& bytes, const std::string& field) {
  cv::Mat image = decode_upload(bytes, ctx.config, field, ctx.config.max_size);
  const auto png = encode_image(image, "png");
  return {std::string(png.begin(), png.end()), image.size()};
}

Submission::Submission(Context& ctx, const Call& c, JobSpec spec, std::string titles,
                       std::string batch_id)
    : ctx_(ctx),
      call_(c),
      spec_(std::move(spec)),
      titles_(std::move(titles)),
      batch_id_(std::move(batch_id)) {
  if (spec_.method == JobMethod::gatys) {
    for (const auto& id : spec_.styles) {
      style_sizes_.push_back(ctx.styles.image_size(*ctx.styles.find(id, c.client, c.admin)));
    }
  }
}

Submission::~Submission() {
  if (queued_) return;
  for (const auto& job : jobs_) {
    try {
      ctx_.images.remove_prefix(job_prefix(job.id));
    } catch (const std::exception& e) {
      ctx_.log->warn("job {}: cannot remove the images of a refused submit: {}", job.id, e.what());
    }
  }
}

void Submission::add(const Photo& photo, const std::string& content_name) {
  JobSpec spec = spec_;
  fit_to_images(spec, photo.size, style_sizes_, request_limits(ctx_.config));
  const std::string init =
      spec.init_job.empty() ? "" : init_picture(ctx_, call_, spec.init_job, photo.size);
  JobRecord job;
  job.id = new_id();
  // Taken now, atomically with every other submit and upload (on any node): the photo's bytes
  // until they are stored, then the result's bound while the job is queued or running.
  const int64_t result_bytes = stored_result_bytes(spec, photo.size);
  auto reservation = ctx_.quota.reserve(
      job.id, static_cast<int64_t>(photo.png.size() + init.size()) + result_bytes);
  job.owner = call_.client;
  job.method = spec.method_name();
  job.style = spec.style_id();
  job.style_title = titles_;
  job.params = stored_params(spec);
  job.created_ms = now_ms();
  job.batch_id = batch_id_;
  job.content_name = content_name;
  jobs_.push_back(job);  // from here on, the destructor removes its images
  ctx_.images.put(content_key(job.id), photo.png);
  if (!init.empty()) ctx_.images.put(init_key(job.id), init);
  estimates_.push_back(estimate_job_seconds(spec, photo.size));
  result_bytes_.push_back(result_bytes);
  reservations_.push_back(std::move(reservation));
}

const std::vector<JobRecord>& Submission::queue() {
  enqueue_fairly(ctx_, jobs_, estimates_);
  queued_ = true;
  for (size_t i = 0; i < jobs_.size(); ++i) reservations_[i].keep_for_job(result_bytes_[i]);
  return jobs_;
}

}  // namespace pastiche::service
