// The edge where job parameters from the outside (multipart form fields or a JSON body) become a
// typed JobSpec, once, within the service's request limits. Every failure is an InputError whose
// message starts with the field name: "size: must be between 64 and 2048". Stored jobs are read
// back by job_spec.h, never through here.
#pragma once
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <map>
#include <string>
#include <vector>

#include "service/job_spec.h"

namespace pastiche::service {

using FormFields = std::map<std::string, std::string>;

// Every uploaded image (photo or painting): at least this many pixels on its short side and at
// most this elongated, so that every method can run on it at any accepted size.
constexpr int kMinImageSide = 16;
constexpr double kMaxAspectRatio = 10;

// InputError naming `field` when an image of this size is too small or too elongated.
void check_image_shape(const std::string& field, int width, int height);
// The smallest longest side at which an image of this shape keeps kMinImageSide px on its short
// side (the loss network and the transform network need that much to run).
int min_longest_side(int width, int height);

struct RequestLimits {
  int max_size = 2048;   // longest side of an output, px
  int max_steps = 2000;  // Gatys loss evaluations
  int min_size = 64;
  int max_scales = 6;  // Gatys coarse-to-fine levels
};

// The HTTP form of a spec: parse_job_request(request_fields(spec)) gives back the same spec (the
// round trip the tests and the fuzzer check).
FormFields request_fields(const JobSpec& spec);

// Parses and validates form fields. Empty values count as absent; unknown fields are refused, and
// so are the gatys-only fields (steps, weights, seed, optimizer, init, scales) on a fast job.
JobSpec parse_job_request(const FormFields& fields, const RequestLimits& limits);

// Fits a job to its images once they are known (at submit): a fast job
// without a size gets the photo's longest side, raised to what its shape needs and capped; a
// Gatys job's coarsest level is raised so every level keeps kMinImageSide px on each image's
// short side. InputError ("size: ...") when the requested size is too small for the images.
void fit_to_images(JobSpec& spec, const cv::Size& content, const std::vector<cv::Size>& styles,
                   const RequestLimits& limits);
// The Gatys half of fit_to_images (no limits involved), which the Gatys executor applies again
// to the images it loads (jobs stored before the spec kept no coarsest level). Idempotent.
void fit_gatys_levels(GatysOptions& options, const cv::Size& content,
                      const std::vector<cv::Size>& styles);

// A JSON object body (values may be strings, numbers or booleans) as form fields; InputError when
// the body is not a JSON object of scalars.
FormFields fields_from_json(const std::string& body);

// POST /api/stylize names some fields differently (original_color, blend_alpha, image):
// maps them onto a fast JobSpec.
JobSpec parse_stylize_request(const FormFields& fields, const RequestLimits& limits);

}  // namespace pastiche::service
