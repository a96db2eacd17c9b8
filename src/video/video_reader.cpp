#include "video/video_reader.h"

#include <filesystem>

#include "common/error.h"

namespace pastiche {

VideoReader::VideoReader(const std::string& path, int64_t max_pixels) : path_(path) {
  av::quiet_logs();
  if (!std::filesystem::is_regular_file(path))
    throw NotFoundError("video '" + path + "' not found");
  const std::string unreadable = "cannot read '" + path + "' as a video";
  if (int rc = avformat_open_input(&format_, path.c_str(), nullptr, nullptr); rc < 0)
    throw UnsupportedTypeError(unreadable + " (" + av::error_text(rc) + ")");
  try {
    if (int rc = avformat_find_stream_info(format_, nullptr); rc < 0)
      throw UnsupportedTypeError(unreadable + " (" + av::error_text(rc) + ")");
    const AVCodec* codec = nullptr;
    video_index_ = av_find_best_stream(format_, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (video_index_ < 0 || !codec)
      throw UnsupportedTypeError(unreadable + " (" +
                                 (video_index_ == AVERROR_DECODER_NOT_FOUND
                                      ? "no decoder for its video stream"
                                      : "it has no video stream") +
                                 ")");
    AVStream* stream = format_->streams[video_index_];
    // Cover art and other still pictures are not a video.
    if (stream->disposition & AV_DISPOSITION_ATTACHED_PIC)
      throw UnsupportedTypeError(unreadable + " (its only picture is a still image)");
    decoder_.reset(avcodec_alloc_context3(codec));
    if (!decoder_) throw std::bad_alloc();
    av::check(avcodec_parameters_to_context(decoder_.get(), stream->codecpar), "video decoder");
    decoder_->thread_count = 0;  // as many as FFmpeg sees fit
    if (int rc = avcodec_open2(decoder_.get(), codec, nullptr); rc < 0)
      throw UnsupportedTypeError(unreadable + " (cannot decode " + codec->name + ": " +
                                 av::error_text(rc) + ")");
    if (decoder_->width <= 0 || decoder_->height <= 0)
      throw UnsupportedTypeError(unreadable + " (its frames have no size)");
    if (static_cast<int64_t>(decoder_->width) * decoder_->height > max_pixels)
      throw TooLargeError("video '" + path + "' has " + std::to_string(decoder_->width) + "x" +
                          std::to_string(decoder_->height) + " frames, over the limit of " +
                          std::to_string(max_pixels / 1'000'000) + " megapixels");

    const int audio =
        av_find_best_stream(format_, AVMEDIA_TYPE_AUDIO, -1, video_index_, nullptr, 0);
    if (audio >= 0) {
      audio_index_ = audio;
      info_.audio_codec = avcodec_get_name(format_->streams[audio]->codecpar->codec_id);
    }
    info_.width = decoder_->width;
    info_.height = decoder_->height;
    info_.time_base = stream->time_base;
    const AVRational rate = av_guess_frame_rate(format_, stream, nullptr);
    info_.fps = rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
    if (!(info_.fps > 0 && info_.fps < 1000)) info_.fps = 25;
    if (stream->duration > 0)
      info_.duration = static_cast<double>(stream->duration) * av_q2d(stream->time_base);
    else if (format_->duration > 0)
      info_.duration = static_cast<double>(format_->duration) / AV_TIME_BASE;
    info_.frame_count = stream->nb_frames > 0
                            ? stream->nb_frames
                            : static_cast<int64_t>(info_.duration * info_.fps + 0.5);
    info_.rotation = av::rotation_degrees(stream);
    info_.codec = codec->name;
    frame_step_ = std::max<int64_t>(
        1, av_rescale_q(1, av_inv_q(av_d2q(info_.fps, 100000)), stream->time_base));
  } catch (...) {
    avformat_close_input(&format_);
    throw;
  }
}

VideoReader::~VideoReader() {
  avformat_close_input(&format_);
}

const AVStream* VideoReader::video_stream() const {
  return format_->streams[video_index_];
}

const AVStream* VideoReader::audio_stream() const {
  return audio_index_ >= 0 ? format_->streams[audio_index_] : nullptr;
}

bool VideoReader::receive(cv::Mat& bgr, int64_t& pts) {
  // EAGAIN: needs more packets; EOF: flushed; anything else: a damaged frame, skipped as players
  // do.
  if (avcodec_receive_frame(decoder_.get(), frame_.get()) < 0) return false;
  AVFrame* f = frame_.get();
  sws_.reset(sws_getCachedContext(sws_.release(), f->width, f->height,
                                  static_cast<AVPixelFormat>(f->format), info_.width, info_.height,
                                  AV_PIX_FMT_BGR24, SWS_BICUBIC, nullptr, nullptr, nullptr));
  if (!sws_) throw UnsupportedTypeError("cannot convert the frames of '" + path_ + "' to RGB");
  bgr.create(info_.height, info_.width, CV_8UC3);
  uint8_t* planes[4] = {bgr.data, nullptr, nullptr, nullptr};
  int strides[4] = {static_cast<int>(bgr.step[0]), 0, 0, 0};
  sws_scale(sws_.get(), f->data, f->linesize, 0, f->height, planes, strides);
  pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : next_pts_;
  next_pts_ = pts + frame_step_;
  av_frame_unref(f);
  return true;
}

bool VideoReader::read(cv::Mat& bgr, int64_t& pts) {
  while (true) {
    if (receive(bgr, pts)) return true;
    if (flushed_) return false;
    const int rc = av_read_frame(format_, packet_.get());
    if (rc < 0) {
      // End of file (or a truncated one): flush the frames the decoder still holds.
      avcodec_send_packet(decoder_.get(), nullptr);
      flushed_ = true;
      continue;
    }
    if (packet_->stream_index == video_index_) {
      avcodec_send_packet(decoder_.get(), packet_.get());  // a damaged packet is skipped
    } else if (packet_->stream_index == audio_index_ && audio_sink_) {
      audio_sink_(*packet_);
    }
    av_packet_unref(packet_.get());
  }
}

void VideoReader::drain_audio(int64_t end) {
  if (audio_index_ < 0 || !audio_sink_) return;
  while (av_read_frame(format_, packet_.get()) >= 0) {
    const bool audio = packet_->stream_index == audio_index_;
    const bool in_time = packet_->pts == AV_NOPTS_VALUE || packet_->pts < end;
    if (audio && in_time) audio_sink_(*packet_);
    av_packet_unref(packet_.get());
  }
}

}  // namespace pastiche
