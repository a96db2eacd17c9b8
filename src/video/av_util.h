// What the reader and the writer share over FFmpeg's C libraries: owning pointers with the right
// free functions, and return codes turned into exceptions that say what failed.
#pragma once
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/display.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
}

#include <memory>
#include <stdexcept>
#include <string>

namespace pastiche::av {

struct FreeCodecContext {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct FreeFrame {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct FreePacket {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FreeSws {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};
struct FreeSwr {
  void operator()(SwrContext* s) const { swr_free(&s); }
};
using CodecContext = std::unique_ptr<AVCodecContext, FreeCodecContext>;
using Frame = std::unique_ptr<AVFrame, FreeFrame>;
using Packet = std::unique_ptr<AVPacket, FreePacket>;
using Sws = std::unique_ptr<SwsContext, FreeSws>;
using Swr = std::unique_ptr<SwrContext, FreeSwr>;

// FFmpeg's own chatter (encoder settings, statistics) off stderr: errors only. Idempotent.
void quiet_logs();

Frame make_frame();
Packet make_packet();

// FFmpeg's message for an error code ("Invalid data found when processing input").
std::string error_text(int code);

// A failure of FFmpeg's own (encoder missing, disk full): runtime_error with `what` and the reason.
[[noreturn]] void fail(const std::string& what, int code);
inline int check(int code, const std::string& what) {
  if (code < 0) fail(what, code);
  return code;
}

// Sends `frame` to the encoder (nullptr flushes it) and writes every packet it gives back to
// `stream` of `output`, interleaved; `what` ("the video") names the failure.
void encode_and_write(AVCodecContext* encoder, AVFrame* frame, AVFormatContext* output,
                      AVStream* stream, AVPacket* packet, const std::string& what);

// The stream's display matrix as a clockwise rotation in degrees (0, 90, 180, 270), 0 if none.
int rotation_degrees(const AVStream* stream);
// Copies the display matrix (rotation metadata) of `from` onto `to`, if it has one.
void copy_display_matrix(const AVStream* from, AVStream* to);

}  // namespace pastiche::av
