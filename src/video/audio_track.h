// The sound of the input in the output: its packets copied as they are where the container takes
// the codec and players expect it there (AAC or MP3 in MP4; almost anything in Matroska), else
// decoded and re-encoded (AAC for MP4/MOV, Opus for WebM), keeping the timing so picture and sound
// stay in sync.
#pragma once
#include <string>

#include "video/av_util.h"

namespace pastiche {

class AudioTrack {
 public:
  // Adds an audio stream for `input` to `output` (before its header is written).
  AudioTrack(AVFormatContext* output, const AVStream* input);
  ~AudioTrack();
  AudioTrack(const AudioTrack&) = delete;
  AudioTrack& operator=(const AudioTrack&) = delete;

  void write(const AVPacket& packet);  // a packet of the input stream
  void finish();                       // flushes a re-encoding; call before the trailer
  // "aac (copied)" or "aac (from pcm_s16le)".
  std::string description() const;

 private:
  void resample_decoded();  // decoded frames -> encoder format -> FIFO -> encoder
  void encode_available(bool flush);
  void send(AVFrame* frame);
  AVFormatContext* output_;
  const AVStream* input_;
  AVStream* stream_ = nullptr;
  bool copy_ = true;
  // Re-encoding only:
  av::CodecContext decoder_, encoder_;
  av::Swr resampler_;
  AVAudioFifo* fifo_ = nullptr;
  av::Frame decoded_ = av::make_frame();
  av::Packet packet_ = av::make_packet();
  int64_t next_pts_ = AV_NOPTS_VALUE;  // in samples of the encoder's rate
};

}  // namespace pastiche
