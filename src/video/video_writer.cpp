#include "video/video_writer.h"

extern "C" {
#include <libavutil/opt.h>
}

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "common/enum_names.h"
#include "common/error.h"

namespace pastiche {

namespace {

std::string lower_extension(const std::string& path) {
  auto ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  return ext;
}

const AVCodec* video_encoder(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::h264:
      if (const AVCodec* x264 = avcodec_find_encoder_by_name("libx264")) return x264;
      return avcodec_find_encoder(AV_CODEC_ID_H264);
    case VideoCodec::vp9:
      if (const AVCodec* vpx = avcodec_find_encoder_by_name("libvpx-vp9")) return vpx;
      return avcodec_find_encoder(AV_CODEC_ID_VP9);
    default:
      return avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  }
}

AVCodecID codec_id(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::h264:
      return AV_CODEC_ID_H264;
    case VideoCodec::vp9:
      return AV_CODEC_ID_VP9;
    default:
      return AV_CODEC_ID_MJPEG;
  }
}

}  // namespace

VideoCodec resolve_codec(const std::string& output, VideoCodec requested) {
  const auto ext = lower_extension(output);
  const AVOutputFormat* format = av_guess_format(nullptr, ("x" + ext).c_str(), nullptr);
  const bool known = ext == ".mp4" || ext == ".m4v" || ext == ".mov" || ext == ".mkv" ||
                     ext == ".webm" || ext == ".avi";
  if (!known || !format)
    throw InputError("cannot tell the video format of '" + output +
                     "'; use an .mp4, .mov, .mkv, .webm or .avi output");
  VideoCodec codec = requested;
  if (codec == VideoCodec::automatic)
    codec = ext == ".webm" ? VideoCodec::vp9 : ext == ".avi" ? VideoCodec::mjpeg : VideoCodec::h264;
  if (avformat_query_codec(format, codec_id(codec), FF_COMPLIANCE_NORMAL) != 1)
    throw InputError(std::string("codec: ") + enum_to_string(kVideoCodecNames, codec) +
                     " cannot be stored in a " + ext + " file");
  return codec;
}

VideoWriter::VideoWriter(const std::string& path, const VideoEncoding& encoding,
                         const AVStream* video_from, const AVStream* audio_from) {
  av::quiet_logs();
  const AVCodec* codec = video_encoder(encoding.codec);
  if (!codec)
    throw std::runtime_error(std::string("this FFmpeg has no ") +
                             enum_to_string(kVideoCodecNames, encoding.codec) + " encoder");
  av::check(avformat_alloc_output_context2(&output_, nullptr, nullptr, path.c_str()),
            "video format of '" + path + "'");
  try {
    const std::string container = output_->oformat->name;
    frame_index_pts_ = container == "avi";
    // yuv420p halves the chroma in both directions, so the encoders want even sizes.
    width_ = encoding.codec == VideoCodec::mjpeg ? encoding.width : encoding.width & ~1;
    height_ = encoding.codec == VideoCodec::mjpeg ? encoding.height : encoding.height & ~1;
    if (width_ < 2 || height_ < 2) throw InputError("the video's frames are too small to encode");

    encoder_.reset(avcodec_alloc_context3(codec));
    if (!encoder_) throw std::bad_alloc();
    AVCodecContext* e = encoder_.get();
    e->width = width_;
    e->height = height_;
    const AVRational rate = av_d2q(encoding.fps, 100000);
    e->framerate = rate;
    e->time_base = frame_index_pts_ ? av_inv_q(rate) : encoding.time_base;
    e->pix_fmt = encoding.codec == VideoCodec::mjpeg ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P;
    // What swscale writes (BT.601 limited range) is said so, or players guess BT.709 for HD.
    e->colorspace = AVCOL_SPC_SMPTE170M;
    e->color_range = encoding.codec == VideoCodec::mjpeg ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
    e->thread_count = 0;
    if (output_->oformat->flags & AVFMT_GLOBALHEADER) e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary* options = nullptr;
    const int q = encoding.quality;
    if (encoding.codec == VideoCodec::h264) {
      if (q > 51) throw InputError("quality: h264 takes 1-51");
      av_dict_set(&options, "preset", "faster", 0);  // the network, not the encoder, sets the pace
      av_dict_set_int(&options, "crf", q > 0 ? q : 20, 0);
    } else if (encoding.codec == VideoCodec::vp9) {
      e->bit_rate = 0;  // constant quality
      av_dict_set_int(&options, "crf", q > 0 ? q : 32, 0);
      av_dict_set(&options, "deadline", "realtime", 0);
      av_dict_set_int(&options, "cpu-used", 8, 0);
      av_dict_set_int(&options, "row-mt", 1, 0);
    } else {
      e->flags |= AV_CODEC_FLAG_QSCALE;
      e->global_quality = FF_QP2LAMBDA * (q > 0 ? std::min(q, 31) : 3);
    }
    const int opened = avcodec_open2(e, codec, &options);
    av_dict_free(&options);
    av::check(opened, std::string("opening the ") + codec->name + " encoder");

    stream_ = avformat_new_stream(output_, nullptr);
    if (!stream_) throw std::bad_alloc();
    av::check(avcodec_parameters_from_context(stream_->codecpar, e), "video stream");
    stream_->time_base = e->time_base;
    stream_->avg_frame_rate = rate;
    if (video_from) av::copy_display_matrix(video_from, stream_);
    if (audio_from) audio_ = std::make_unique<AudioTrack>(output_, audio_from);

    av::check(avio_open(&output_->pb, path.c_str(), AVIO_FLAG_WRITE), "creating '" + path + "'");
    AVDictionary* muxer = nullptr;
    if (container == "mp4" || container == "mov") av_dict_set(&muxer, "movflags", "+faststart", 0);
    const int header = avformat_write_header(output_, &muxer);
    av_dict_free(&muxer);
    av::check(header, "writing '" + path + "'");
    header_written_ = true;

    frame_->format = e->pix_fmt;
    frame_->width = width_;
    frame_->height = height_;
    av::check(av_frame_get_buffer(frame_.get(), 0), "frame buffer");
    sws_.reset(sws_getContext(encoding.width, encoding.height, AV_PIX_FMT_BGR24, width_, height_,
                              e->pix_fmt, SWS_BICUBIC, nullptr, nullptr, nullptr));
    if (!sws_) throw std::runtime_error("cannot convert frames for the encoder");
  } catch (...) {
    audio_.reset();
    if (output_->pb) avio_closep(&output_->pb);
    avformat_free_context(output_);
    output_ = nullptr;
    throw;
  }
}

VideoWriter::~VideoWriter() {
  if (!output_) return;
  audio_.reset();
  if (output_->pb) avio_closep(&output_->pb);
  avformat_free_context(output_);
}

std::string VideoWriter::codec_name() const {
  return avcodec_get_name(encoder_->codec_id);
}

std::string VideoWriter::audio_description() const {
  return audio_ ? audio_->description() : "";
}

void VideoWriter::write(const cv::Mat& bgr, int64_t pts) {
  CV_Assert(bgr.type() == CV_8UC3);
  av::check(av_frame_make_writable(frame_.get()), "frame buffer");
  const uint8_t* planes[4] = {bgr.data, nullptr, nullptr, nullptr};
  const int strides[4] = {static_cast<int>(bgr.step[0]), 0, 0, 0};
  sws_scale(sws_.get(), planes, strides, 0, bgr.rows, frame_->data, frame_->linesize);
  if (frame_index_pts_) pts = frames_;
  if (last_pts_ != AV_NOPTS_VALUE && pts <= last_pts_) pts = last_pts_ + 1;  // keep them rising
  frame_->pts = last_pts_ = pts;
  ++frames_;
  encode(frame_.get());
}

void VideoWriter::encode(AVFrame* frame) {
  av::encode_and_write(encoder_.get(), frame, output_, stream_, packet_.get(), "the video");
}

void VideoWriter::write_audio(const AVPacket& packet) {
  if (audio_) audio_->write(packet);
}

void VideoWriter::finish() {
  if (finished_) return;
  encode(nullptr);
  if (audio_) audio_->finish();
  av::check(av_write_trailer(output_), "finishing the video");
  av::check(avio_closep(&output_->pb), "closing the video");
  finished_ = true;
}

}  // namespace pastiche
