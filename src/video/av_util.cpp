#include "video/av_util.h"

#include <cmath>
#include <cstring>

namespace pastiche::av {

void quiet_logs() {
  static const bool once = [] {
    av_log_set_level(AV_LOG_ERROR);
    return true;
  }();
  (void)once;
}

Frame make_frame() {
  Frame f(av_frame_alloc());
  if (!f) throw std::bad_alloc();
  return f;
}

Packet make_packet() {
  Packet p(av_packet_alloc());
  if (!p) throw std::bad_alloc();
  return p;
}

std::string error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof text);
  return text;
}

void fail(const std::string& what, int code) {
  throw std::runtime_error(what + ": " + error_text(code));
}

void encode_and_write(AVCodecContext* encoder, AVFrame* frame, AVFormatContext* output,
                      AVStream* stream, AVPacket* packet, const std::string& what) {
  check(avcodec_send_frame(encoder, frame), "encoding " + what);
  while (avcodec_receive_packet(encoder, packet) >= 0) {
    av_packet_rescale_ts(packet, encoder->time_base, stream->time_base);
    packet->stream_index = stream->index;
    check(av_interleaved_write_frame(output, packet), "writing " + what);
  }
}

namespace {

// FFmpeg 6.1 moved stream side data into codecpar and 7 removed the old accessors.
#if LIBAVFORMAT_VERSION_MAJOR >= 61
const uint8_t* display_matrix(const AVStream* stream, size_t* size) {
  const auto* sd =
      av_packet_side_data_get(stream->codecpar->coded_side_data,
                              stream->codecpar->nb_coded_side_data, AV_PKT_DATA_DISPLAYMATRIX);
  if (!sd) return nullptr;
  *size = sd->size;
  return sd->data;
}
#else
const uint8_t* display_matrix(const AVStream* stream, size_t* size) {
  return av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, size);
}
#endif

}  // namespace

int rotation_degrees(const AVStream* stream) {
  size_t size = 0;
  const uint8_t* m = display_matrix(stream, &size);
  if (!m || size < 9 * sizeof(int32_t)) return 0;
  // av_display_rotation_get is counter-clockwise; players speak clockwise.
  const double ccw = av_display_rotation_get(reinterpret_cast<const int32_t*>(m));
  if (std::isnan(ccw)) return 0;
  const int cw = static_cast<int>(std::lround(-ccw));
  return ((cw % 360) + 360) % 360;
}

void copy_display_matrix(const AVStream* from, AVStream* to) {
  size_t size = 0;
  const uint8_t* m = display_matrix(from, &size);
  if (!m) return;
#if LIBAVFORMAT_VERSION_MAJOR >= 61
  auto* sd =
      av_packet_side_data_new(&to->codecpar->coded_side_data, &to->codecpar->nb_coded_side_data,
                              AV_PKT_DATA_DISPLAYMATRIX, size, 0);
  if (!sd) throw std::bad_alloc();
  std::memcpy(sd->data, m, size);
#else
  uint8_t* copy = av_stream_new_side_data(to, AV_PKT_DATA_DISPLAYMATRIX, size);
  if (!copy) throw std::bad_alloc();
  std::memcpy(copy, m, size);
#endif
}

}  // namespace pastiche::av
