#include "video/paint_video.h"

#include <chrono>
#include <filesystem>
#include <memory>

#include "common/error.h"
#include "image/image_io.h"
#include "video/temporal_consistency.h"
#include "video/video_reader.h"
#include "video/video_writer.h"

namespace pastiche {

VideoResult stylize_video(FastStylizer& stylizer, const std::string& input,
                          const std::string& output, const VideoOptions& options,
                          const std::function<void(int, int)>& progress,
                          const std::atomic<bool>* cancel, bool measure_flicker) {
  options.validate();
  // One int8 calibration per clip (where int8 runs): cheaper, and steady between frames.
  stylizer.keep_int8_calibration(true);
  struct Restore {
    FastStylizer& s;
    ~Restore() { s.keep_int8_calibration(false); }
  } restore{stylizer};
  return paint_video(
      [&](const cv::Mat& frame) { return stylizer.stylize(frame, options.frame, {}, cancel); },
      input, output, options, progress, cancel, measure_flicker);
}

VideoResult paint_video(const FramePainter& paint, const std::string& input,
                        const std::string& output, const VideoOptions& options,
                        const std::function<void(int, int)>& progress,
                        const std::atomic<bool>* cancel, bool measure_flicker) {
  options.validate();
  const VideoCodec codec = resolve_codec(output, options.codec);
  VideoReader reader(input);
  const VideoInfo& info = reader.info();
  VideoResult result;
  result.fps = info.fps;
  result.rotation = info.rotation;
  int total = static_cast<int>(std::min<int64_t>(info.frame_count, INT32_MAX));
  if (options.max_frames > 0 && (total == 0 || total > options.max_frames))
    total = options.max_frames;

  // The muxer reads the format from the extension, so the partial file keeps it at the end.
  const auto tmp = output + ".part" + std::filesystem::path(output).extension().string();
  const AVStream* sound = options.no_audio ? nullptr : reader.audio_stream();
  VideoEncoding encoding{codec, info.width, info.height, info.time_base, info.fps, options.quality};
  const auto start = std::chrono::steady_clock::now();
  int64_t first_pts = AV_NOPTS_VALUE, last_pts = 0;
  try {
    auto writer = std::make_unique<VideoWriter>(tmp, encoding, reader.video_stream(), sound);
    if (sound) reader.set_audio_sink([&](const AVPacket& p) { writer->write_audio(p); });
    TemporalConsistency temporal(options.smooth, 640, measure_flicker);
    cv::Mat frame;
    int64_t pts = 0;
    while (options.max_frames == 0 || result.frames < options.max_frames) {
      if (cancel && cancel->load()) throw Cancelled();
      if (!reader.read(frame, pts)) break;
      cv::Mat out = paint(frame);
      if (out.size() != frame.size()) out = resize_to(out, frame.cols, frame.rows);
      writer->write(temporal.apply(frame, out), pts);
      if (first_pts == AV_NOPTS_VALUE) first_pts = pts;
      last_pts = pts;
      ++result.frames;
      if (progress) progress(result.frames, total);
    }
    if (result.frames == 0) throw InputError("video '" + input + "' has no readable frames");
    // The sound runs to the end of the last frame, not past it (max_frames).
    const double step = 1.0 / info.fps;
    result.duration = static_cast<double>(last_pts - first_pts) * av_q2d(info.time_base) + step;
    if (sound) {
      const int64_t end = av_rescale_q(last_pts, info.time_base, sound->time_base) +
                          av_rescale_q(1, av_inv_q(av_d2q(info.fps, 100000)), sound->time_base);
      reader.drain_audio(end);
    }
    writer->finish();
    result.codec = writer->codec_name();
    result.audio = writer->audio_description();
    result.width = writer->width();
    result.height = writer->height();
    result.warping_error = temporal.mean_warping_error();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  std::filesystem::rename(tmp, output);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.frames_per_second = result.frames / std::max(1e-9, result.seconds);
  return result;
}

}  // namespace pastiche
