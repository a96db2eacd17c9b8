// /api/jobs, /api/history and the synchronous /api/stylize.
#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/text.h"
#include "image/image_io.h"
#include "service/file_names.h"
#include "service/ids.h"
#include "service/job_estimate.h"
#include "service/job_submit.h"
#include "service/routes.h"

namespace pastiche::service {

using nlohmann::json;

namespace {

std::string as_view(const std::vector<uint8_t>& v) {
  return std::string(v.begin(), v.end());
}

bool query_flag(const http::Request& req, const char* name) {
  if (!req.has_param(name)) return false;
  auto v = req.get_param_value(name);
  return v == "1" || v == "true" || v == "yes";
}

std::string image_format(const http::Request& req) {
  if (!req.has_param("format")) return "png";
  auto f = req.get_param_value("format");
  if (f == "png") return "png";
  if (f == "jpeg" || f == "jpg") return "jpeg";
  throw InputError("format: must be png or jpeg");
}

void handle_submit(Context& ctx, Call& c) {
  check_can_submit(ctx, 1);
  bool is_json = c.req.get_header_value("Content-Type").rfind("application/json", 0) == 0;
  FormFields fields = is_json ? fields_from_json(c.req.body) : form_fields(c.req, {"content"});
  JobSpec request = parse_job_request(fields, request_limits(ctx.config));
  std::string titles = check_styles(ctx, c, request);

  Photo photo;
  std::string content_name;
  if (!request.content_job.empty()) {
    if (!is_json && c.req.has_file("content")) {
      throw InputError("content_job: give either a content file or content_job, not both");
    }
    JobRecord source = load_job(ctx, c, request.content_job);
    auto bytes = ctx.images.get(content_key(source.id));
    if (!bytes) throw HttpError(404, "content_job: the photo of that job was deleted");
    photo.png = std::move(*bytes);
    auto header = probe_image(photo.png);
    photo.size = cv::Size(header.width, header.height);
    content_name = source.content_name;  // the same photo keeps its name
  } else {
    if (is_json) throw InputError("content_job: required with a JSON body");
    photo =
        decode_photo(ctx, upload_bytes(c.req, "content", ctx.config.max_upload_bytes), "content");
    content_name = content_name_from_filename(c.req.get_file_value("content").filename);
  }
  Submission submission(ctx, c, std::move(request), std::move(titles));
  submission.add(photo, content_name);
  const JobRecord job = submission.queue().front();
  const double estimated_seconds = submission.estimated_seconds().front();
  const QueuePlace place = ctx.queue.place(job.id);
  ctx.log->info("job {} queued ({} {}, position {})", job.id, job.method, job.style,
                place.position);
  c.res.set_header("Location", "/api/jobs/" + job.id);
  send_json(c.res, 202,
            {{"id", job.id},
             {"status", "queued"},
             {"position", place.position},
             {"wait_seconds", wait_seconds(place, lane_workers(ctx.config, job.method))},
             {"estimated_seconds", std::round(estimated_seconds * 10) / 10},
             {"urls", job_urls(job.id)}});
}

// One job's Server-Sent Events: the job as it is now, then what its channel publishes, then the
// final event. Waits without a thread: the channel wakes the connection on each publish.
class JobEventStream : public http::StreamSource {
 public:
  static constexpr std::chrono::seconds kHeartbeat{2};
  // `status_seen`: the channel's status before the job was read for the first event, which
  // already is the status.
  JobEventStream(Context& ctx, std::string id, std::shared_ptr<JobChannel> channel,
                 uint64_t status_seen, std::string first, bool finished_now,
                 std::unique_ptr<StreamSlots::Slot> slot)
      : ctx_(ctx),
        id_(std::move(id)),
        channel_(std::move(channel)),
        first_(std::move(first)),
        finished_now_(finished_now),
        slot_(std::move(slot)) {
    sub_.status_seen = status_seen;
  }

  void attach(std::function<void()> wake) override {
    wake_ = std::make_shared<std::function<void()>>(std::move(wake));
    channel_->add_waker(wake_);
  }

  bool pull(std::string& out) override {
    auto now = std::chrono::steady_clock::now();
    if (!first_.empty()) {
      out += std::move(first_);
      first_.clear();
      last_write_ = now;
      return !finished_now_;
    }
    bool finished = false;
    std::string text =
        next_events(ctx_.events, *channel_, sub_, std::chrono::milliseconds(0), finished);
    // A named event, not a comment: EventSource hides comments from the page, and the page
    // tells a dead server from a quiet job by hearing one every kHeartbeat.
    if (text.empty() && !finished && now - last_write_ >= kHeartbeat) {
      auto at = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
      text = sse_event("heartbeat", "{\"at\":" + std::to_string(at) + "}");
    }
    if (!text.empty()) {
      out += text;
      last_write_ = now;
    }
    return !finished;
  }

  void drain(std::string& out) override {
    // Tells the client why the stream ends and when to reconnect (EventSource honours retry).
    out += "retry: 5000\n" +
           sse_event("shutdown",
                     R"({"reason":"the server is restarting; reconnect shortly","retry_ms":5000})");
  }

 private:
  Context& ctx_;
  std::string id_;
  std::shared_ptr<JobChannel> channel_;
  std::string first_;
  bool finished_now_;
  std::unique_ptr<StreamSlots::Slot> slot_;
  Subscriber sub_;
  std::shared_ptr<std::function<void()>> wake_;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
};

void handle_events(Context& ctx, Call& c) {
  JobRecord job = load_job(ctx, c, c.req.matches[1]);
  auto slot = ctx.stream_slots.acquire(c.client, c.ip);
  if (!slot) {
    throw HttpError(429, "too many open event streams from this client; close some first", 5);
  }
  // The channel first, then the job as it is now: a change after this read reaches the channel
  // through the event feed, whichever node's worker makes it.
  auto channel = ctx.events.channel(job.id);
  uint64_t status_seen = 0;
  {
    std::lock_guard lock(channel->mutex);
    status_seen = channel->status_seq;
  }
  auto now = ctx.jobs.get(job.id);
  if (!now) throw HttpError(404, "no such job");
  job = std::move(*now);
  std::string first;
  bool finished = is_finished(job.status);
  if (finished) {
    first = sse_event(to_string(job.status), safe_dump(job_view(ctx, job)));
  } else {
    first = sse_event("status", safe_dump(job_view(ctx, job)));
  }
  c.res.set_header("Cache-Control", "no-cache");
  c.res.set_header("X-Accel-Buffering", "no");  // nginx: do not buffer the stream
  c.res.set_stream(std::make_shared<JobEventStream>(ctx, job.id, std::move(channel), status_seen,
                                                    std::move(first), finished, std::move(slot)),
                   "text/event-stream");
}

// Everything a job leaves behind: its event stream, its images and its row.
void purge(Context& ctx, const std::string& id) {
  ctx.shares.remove_job(id);  // first: its link answers 404, never 410, while the rest goes
  ctx.events.forget(id);
  ctx.images.remove_prefix(job_prefix(id));
  ctx.jobs.remove(id);
}

// A queued job is cancelled (or deleted) at once; a running one is flagged, and the worker that
// runs it, on whatever node, stops it within a heartbeat (and deletes it when asked to).
JobQueue::CancelOutcome cancel_job(Context& ctx, const JobRecord& job, bool delete_after) {
  auto outcome = ctx.queue.request_cancel(job.id, delete_after);
  if (outcome == JobQueue::CancelOutcome::cancelled) {
    ctx.metrics.job_finished(job.method, "cancelled", 0);
    if (delete_after) purge(ctx, job.id);
  } else if (outcome == JobQueue::CancelOutcome::finished && delete_after) {
    purge(ctx, job.id);
  }
  return outcome;
}

void handle_cancel(Context& ctx, Call& c) {
  JobRecord job = load_job(ctx, c, c.req.matches[1]);
  auto outcome = cancel_job(ctx, job, false);
  auto now = ctx.jobs.get(job.id);
  if (!now) throw HttpError(404, "no such job");
  int status = outcome == JobQueue::CancelOutcome::cancelling ? 202 : 200;
  send_json(c.res, status, job_view(ctx, *now));
}

void handle_job_image(Context& ctx, Call& c, const std::string& which) {
  JobRecord job = load_job(ctx, c, c.req.matches[1]);
  c.res.set_header("Cache-Control", "private, no-cache");
  if (job.status == JobStatus::expired) {
    throw HttpError(410,
                    "the images of this job were removed to free disk space (the server "
                    "keeps finished jobs' images while its disk quota allows)");
  }
  if (which == "result") {
    if (job.status != JobStatus::done) {
      throw HttpError(409, std::string("the job is ") + to_string(job.status) +
                               "; the result exists once it is done");
    }
    auto bytes = ctx.images.get(result_key(job.id));
    if (!bytes) throw HttpError(404, "the result was deleted");
    std::string format = image_format(c.req);
    if (format == "jpeg") {
      bytes = as_view(encode_image(decode_image(*bytes), "jpeg", 92));
    }
    std::string ext = format == "jpeg" ? "jpg" : "png";
    if (query_flag(c.req, "download")) {
      c.res.set_header("Content-Disposition",
                       content_disposition("attachment", job_download_name(job, ext)));
    }
    send_bytes(c.res, *bytes, format == "jpeg" ? "image/jpeg" : "image/png");
    if (job.fetched_ms == 0) ctx.jobs.mark_fetched(job.id, now_ms());
  } else if (which == "preview") {
    auto bytes = ctx.images.get(preview_key(job.id));
    if (!bytes) throw HttpError(404, "no preview yet");
    send_bytes(c.res, *bytes, "image/jpeg");
  } else if (which == "thumbnail") {
    auto bytes = ctx.images.get(thumb_key(job.id));
    if (!bytes) {
      auto content = ctx.images.get(content_key(job.id));
      if (!content) throw HttpError(404, "the images of this job were deleted");
      bytes = make_thumbnail(decode_image(*content));
    }
    send_bytes(c.res, *bytes, "image/jpeg");
  } else {
    auto bytes = ctx.images.get(content_key(job.id));
    if (!bytes) throw HttpError(404, "the photo of this job was deleted");
    send_bytes(c.res, *bytes, "image/png");
  }
}

void handle_stylize(Context& ctx, Call& c) {
  if (ctx.stopping) throw HttpError(503, "the server is shutting down", 5);
  std::string format = image_format(c.req);
  FormFields fields = form_fields(c.req, {"image"});
  JobSpec request = parse_stylize_request(fields, request_limits(ctx.config));
  check_styles(ctx, c, request);
  auto style = ctx.styles.find(request.styles.front(), c.client, c.admin);
  auto bytes = upload_bytes(c.req, "image", ctx.config.max_upload_bytes);
  cv::Mat image = decode_upload(bytes, ctx.config, "image", ctx.config.max_size);
  fit_to_images(request, image.size(), {}, request_limits(ctx.config));

  struct Slot {
    std::atomic<int>& n;
    ~Slot() { --n; }
  };
  int limit = std::max(1, ctx.config.fast_workers);
  if (++ctx.stylize_in_flight > limit) {
    --ctx.stylize_in_flight;
    throw HttpError(429, "busy: too many stylisations at once; try again shortly", 1);
  }
  Slot slot{ctx.stylize_in_flight};
  auto stylizer = ctx.engines.fast->acquire(style->model_path);
  cv::Mat out = stylizer->stylize(image, request.fast);
  send_bytes(c.res, as_view(encode_image(out, format, 92)),
             format == "jpeg" ? "image/jpeg" : "image/png");
}

void handle_history(Context& ctx, Call& c) {
  auto number = [&](const char* name, int def, int lo, int hi) {
    if (!c.req.has_param(name)) return def;
    auto v = c.req.get_param_value(name);
    try {
      size_t used = 0;
      long n = std::stol(v, &used);
      if (used != v.size() || n < lo || n > hi) throw std::invalid_argument("range");
      return static_cast<int>(n);
    } catch (const std::exception&) {
      throw InputError(std::string(name) + ": must be between " + std::to_string(lo) + " and " +
                       std::to_string(hi));
    }
  };
  int limit = number("limit", 20, 1, 100);
  int offset = number("offset", 0, 0, 1'000'000);
  bool all = query_flag(c.req, "all");
  if (all && !c.admin) throw HttpError(403, "all: needs X-Admin-Key");
  std::string owner = all ? "" : c.client;
  json items = json::array();
  const auto jobs = ctx.jobs.list_by_owner(owner, limit, offset);
  const auto shares = shares_of(ctx, jobs);  // one query for the page
  for (const auto& job : jobs) {
    auto share = shares.find(job.id);
    items.push_back(
        job_view(ctx, job, share == shares.end() ? std::nullopt : std::optional(share->second)));
  }
  send_json(c.res, 200,
            {{"items", items},
             {"total", ctx.jobs.count_by_owner(owner)},
             {"limit", limit},
             {"offset", offset}});
}

}  // namespace

std::map<std::string, int64_t> queued_by_lane(Context& ctx) {
  auto lanes = ctx.queue.queued_by_lane();
  lanes.emplace("fast", 0);
  lanes.emplace("gatys", 0);
  return lanes;
}

int64_t queued_total(Context& ctx) {
  int64_t total = 0;
  for (const auto& [lane, n] : ctx.queue.queued_by_lane()) total += n;
  return total;
}

// The queue is full until a job ends: the soonest a running one should, by its estimate.
double retry_after_seconds(Context& ctx) {
  const double soonest = ctx.queue.soonest_finish_seconds();
  if (soonest > 0) return std::clamp(soonest, 1.0, 600.0);
  // Nothing runs (workers starting, or on other nodes): a guess from the queue's length.
  double q = static_cast<double>(queued_total(ctx));
  int workers = std::max(1, ctx.config.fast_workers + ctx.config.gatys_workers);
  return std::clamp(q / workers * 2.0, 1.0, 60.0);
}

double wait_seconds(const QueuePlace& place, int workers) {
  const double total = (place.queued_ahead_s + place.running_left_s) / std::max(1, workers);
  return std::round(total * 10) / 10;
}

json job_view(Context& ctx, const JobRecord& job) {
  // Only a finished result can have been shared (an expired one keeps its link: 410).
  const bool shareable = job.status == JobStatus::done || job.status == JobStatus::expired;
  return job_view(ctx, job, shareable ? ctx.shares.get_by_job(job.id) : std::nullopt);
}

json job_view(Context& ctx, const JobRecord& job, const std::optional<ShareRecord>& share) {
  if (job.status != JobStatus::queued) {
    json view = job_json(job, 0);
    view["share"] = share_json(share);
    return view;
  }
  const QueuePlace place = ctx.queue.place(job.id);
  json view = job_json(job, place.position);
  if (place.position > 0) {
    view["wait_seconds"] = wait_seconds(place, lane_workers(ctx.config, job.method));
  }
  return view;
}

void register_job_routes(http::Router& http, Context& ctx) {
  http.Post("/api/jobs", wrap(ctx, [&ctx](Call& c) { handle_submit(ctx, c); }));
  http.Get(R"(/api/jobs/([^/]+))", wrap(ctx, [&ctx](Call& c) {
             JobRecord job = load_job(ctx, c, c.req.matches[1]);
             send_json(c.res, 200, job_view(ctx, job));
           }));
  http.Delete(R"(/api/jobs/([^/]+))", wrap(ctx, [&ctx](Call& c) { handle_cancel(ctx, c); }));
  http.Get(R"(/api/jobs/([^/]+)/events)", wrap(ctx, [&ctx](Call& c) { handle_events(ctx, c); }));
  for (const char* which : {"result", "preview", "thumbnail", "content"}) {
    http.Get(std::string(R"(/api/jobs/([^/]+)/)") + which,
             wrap(ctx, [&ctx, w = std::string(which)](Call& c) { handle_job_image(ctx, c, w); }));
  }
  http.Post("/api/stylize", wrap(ctx, [&ctx](Call& c) { handle_stylize(ctx, c); }));
  http.Get("/api/history", wrap(ctx, [&ctx](Call& c) { handle_history(ctx, c); }));
  http.Delete(R"(/api/history/([^/]+))", wrap(ctx, [&ctx](Call& c) {
                JobRecord job = load_job(ctx, c, c.req.matches[1]);
                cancel_job(ctx, job, /*delete_after=*/true);
                ctx.log->info("job {} deleted", job.id);
                c.res.status = 204;
              }));
}

}  // namespace pastiche::service
