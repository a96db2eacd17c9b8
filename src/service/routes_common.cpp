#include <c10/util/Exception.h>

#include <cmath>

#include "common/error.h"
#include "common/text.h"
#include "image/image_io.h"
#include "service/ids.h"
#include "service/routes.h"

namespace pastiche::service {

using nlohmann::json;

void send_json(http::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(safe_dump(body), "application/json");
}

int lane_workers(const ServerConfig& config, const std::string& lane) {
  if (lane == "gatys") return config.gatys_workers;
  if (lane == "arbitrary") return config.arbitrary_workers;
  return config.fast_workers;
}

std::string error_field(const std::string& message) {
  size_t n = 0;
  while (n < message.size() && n < 40 &&
         ((message[n] >= 'a' && message[n] <= 'z') || message[n] == '_' ||
          (n > 0 && message[n] >= '0' && message[n] <= '9'))) {
    ++n;
  }
  if (n == 0 || n >= message.size()) return {};
  return message[n] == ':' || message[n] == '[' ? message.substr(0, n) : std::string();
}

void send_error(http::Response& res, int status, const std::string& message, double retry_after) {
  json body = {{"error", message}};
  if (retry_after > 0) {
    const int seconds = static_cast<int>(std::ceil(retry_after));
    res.set_header("Retry-After", std::to_string(seconds));
    body["retry_after_seconds"] = seconds;
  }
  // A form can mark the control the message is about.
  if (status == 400 || status == 413 || status == 415) {
    if (auto field = error_field(message); !field.empty()) body["field"] = field;
  }
  send_json(res, status, body);
}

void send_bytes(http::Response& res, const std::string& bytes, const std::string& type) {
  res.status = 200;
  res.set_content(bytes, type);
}

namespace {

std::string cookie_value(const http::Request& req, const std::string& name) {
  std::string header = req.get_header_value("Cookie");
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string item = header.substr(pos, end - pos);
    size_t b = item.find_first_not_of(' ');
    if (b != std::string::npos) item = item.substr(b);
    if (item.rfind(name + "=", 0) == 0) return item.substr(name.size() + 1);
    pos = end + 1;
  }
  return {};
}

}  // namespace

http::Handler wrap(Context& ctx, RouteHandler handler) {
  return [&ctx, handler = std::move(handler)](const http::Request& req, http::Response& res) {
    try {
      Call call{req, res, {}, false, client_ip(req, ctx.config.trust_proxy)};
      if (req.has_header("X-Admin-Key")) {
        // Checked before the comparison: while an address is blocked even the right key is
        // refused, so guessing gains nothing.
        double retry = 0;
        if (ctx.admin_failures.blocked(call.ip, &retry)) {
          throw HttpError(429, "X-Admin-Key: too many wrong keys from this address; try later",
                          std::max(1.0, retry));
        }
        if (ctx.config.admin_key.empty() ||
            !secure_equals(req.get_header_value("X-Admin-Key"), ctx.config.admin_key)) {
          ctx.admin_failures.allow(call.ip);
          throw HttpError(403, "X-Admin-Key: not accepted");
        }
        call.admin = true;
      }
      if (req.has_header("X-Client-Token")) {
        call.client = req.get_header_value("X-Client-Token");
        if (!is_valid_client_token(call.client)) {
          throw HttpError(400, "X-Client-Token: must be 16-128 characters of A-Z a-z 0-9 _ -");
        }
      } else {
        call.client = cookie_value(req, "pastiche_client");
        if (!is_valid_client_token(call.client)) {
          call.client = new_id();
          res.set_header("Set-Cookie", "pastiche_client=" + call.client +
                                           "; Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax");
        }
      }
      handler(call);
    } catch (const HttpError& e) {
      send_error(res, e.status, e.what(), e.retry_after);
    } catch (const TooLargeError& e) {
      send_error(res, 413, e.what());
    } catch (const UnsupportedTypeError& e) {
      send_error(res, 415, e.what());
    } catch (const InputError& e) {
      send_error(res, 400, e.what());
    } catch (const NotFoundError& e) {
      send_error(res, 404, e.what());
    } catch (const StorageFull& e) {
      send_error(res, 507, e.what(), 60);
    } catch (const QueueFull& e) {
      send_error(res, 429, e.what(), retry_after_seconds(ctx));
    } catch (const DatabaseUnavailable& e) {
      // A fault of the database, not of the request nor of this server: retry shortly.
      ctx.log->warn("{} {}: {}", req.method, req.path, e.what());
      send_error(res, 503, "the database is unavailable; try again shortly", 5);
    } catch (const c10::Error& e) {
      ctx.log->error("{} {}: {}", req.method, req.path, e.what_without_backtrace());
      send_error(res, 500, "internal error");
    } catch (const std::exception& e) {
      ctx.log->error("{} {}: {}", req.method, req.path, e.what());
      send_error(res, 500, "internal error");
    }
  };
}

std::string client_ip(const http::Request& req, bool trust_proxy) {
  if (!trust_proxy || !req.has_header("X-Forwarded-For")) return req.remote_addr;
  std::string fwd = req.get_header_value("X-Forwarded-For");
  auto comma = fwd.rfind(',');
  std::string ip = fwd.substr(comma == std::string::npos ? 0 : comma + 1);
  ip.erase(0, ip.find_first_not_of(' '));
  return ip;
}

namespace {

void check_text_field(const std::string& name, const std::string& value) {
  if (!is_valid_utf8(name)) throw InputError(printable(name) + ": the field name is not UTF-8");
  if (name.size() > 100) throw InputError(printable(name) + ": unknown field");
  if (!is_valid_utf8(value)) throw InputError(name + ": not valid UTF-8 text");
  // Only a painting's description may span lines.
  std::string problem = text_problem(value, name == "description");
  if (!problem.empty()) throw InputError(name + ": " + problem);
}

}  // namespace

FormFields form_fields(const http::Request& req, std::initializer_list<const char*> file_fields) {
  FormFields fields;
  auto is_file_field = [&](const std::string& name) {
    for (const char* f : file_fields) {
      if (name == f) return true;
    }
    return false;
  };
  if (req.is_multipart_form_data()) {
    for (const auto& [name, part] : req.files) {
      if (is_file_field(name)) continue;
      check_text_field(name, part.content);
      if (fields.count(name)) throw InputError(name + ": given twice");
      if (part.file || part.content.size() > 4096) throw InputError(name + ": value too long");
      fields[name] = part.content;
    }
  } else {
    for (const auto& [name, value] : req.params) {
      if (is_file_field(name)) continue;
      if (name == "format" || name == "download") continue;  // query options of the response
      check_text_field(name, value);
      if (fields.count(name)) throw InputError(name + ": given twice");
      fields[name] = value;
    }
  }
  return fields;
}

std::string upload_bytes(const http::Request& req, const std::string& field, int64_t max_bytes) {
  if (!req.is_multipart_form_data() || !req.has_file(field)) {
    throw InputError(field + ": required (multipart/form-data file field '" + field + "')");
  }
  if (req.files.count(field) > 1) throw InputError(field + ": given twice");
  auto part = req.get_file_value(field);
  if (static_cast<int64_t>(part.content.size()) > max_bytes) {
    throw TooLargeError(field + ": the file is " + std::to_string(part.content.size() >> 10) +
                        " KiB; the limit is " + std::to_string(max_bytes >> 10) + " KiB");
  }
  if (part.content.empty()) throw InputError(field + ": the file is empty");
  return std::move(part.content);
}

ImageHeader probe_upload(const std::string& bytes, const ServerConfig& config,
                         const std::string& field) {
  ImageHeader header;
  try {
    header = probe_image(bytes);
  } catch (const UnsupportedTypeError& e) {
    throw UnsupportedTypeError(field + ": " + e.what());
  } catch (const InputError& e) {
    throw InputError(field + ": " + e.what());
  }
  if (header.width <= 0 || header.height <= 0) {
    throw InputError(field + ": the image header has no size");
  }
  check_image_shape(field, header.width, header.height);
  int64_t pixels = static_cast<int64_t>(header.width) * header.height;
  if (pixels > config.max_pixels) {
    throw TooLargeError(field + ": " + std::to_string(header.width) + "x" +
                        std::to_string(header.height) + " is over the limit of " +
                        std::to_string(config.max_pixels) + " pixels");
  }
  return header;
}

cv::Mat decode_upload(const std::string& bytes, const ServerConfig& config,
                      const std::string& field, int max_side) {
  probe_upload(bytes, config, field);
  ImageLimits limits;
  limits.max_pixels = config.max_pixels;
  limits.max_bytes = config.max_upload_bytes;
  cv::Mat image;
  try {
    image = decode_image(bytes, limits, field);
  } catch (const InputError&) {
    throw;
  } catch (const cv::Exception& e) {
    throw InputError(field + ": cannot decode the image");
  }
  if (image.empty()) throw InputError(field + ": cannot decode the image");
  if (max_side > 0 && std::max(image.cols, image.rows) > max_side) {
    image = resize_longest(image, max_side);
  }
  return image;
}

JobRecord load_job(Context& ctx, const Call& call, const std::string& id) {
  if (!is_valid_id(id)) throw HttpError(404, "no such job");
  auto job = ctx.jobs.get(id);
  if (!job || (!call.admin && job->owner != call.client)) throw HttpError(404, "no such job");
  return *job;
}

}  // namespace pastiche::service
