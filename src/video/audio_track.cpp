#include "video/audio_track.h"

#include <cstring>
#include <string>

namespace pastiche {

namespace {

const AVCodec* audio_encoder_for(const AVOutputFormat* format) {
  if (std::strcmp(format->name, "webm") == 0) {
    if (const AVCodec* opus = avcodec_find_encoder_by_name("libopus")) return opus;
    return avcodec_find_encoder(AV_CODEC_ID_VORBIS);
  }
  return avcodec_find_encoder(AV_CODEC_ID_AAC);
}

// The input's rate where the encoder takes it, else the nearest it lists (Opus: 48 kHz only).
int sample_rate_for(const AVCodec* codec, int wanted) {
  if (!codec->supported_samplerates) return wanted;
  int best = codec->supported_samplerates[0];
  for (const int* r = codec->supported_samplerates; *r; ++r) {
    if (*r == wanted) return wanted;
    if (std::abs(*r - wanted) < std::abs(best - wanted)) best = *r;
  }
  return best;
}

// MP4 and MOV keep only AAC and MP3 as they are: FFmpeg would also store Opus or FLAC there, but
// QuickTime, older Safari and many TVs do not play those in MP4.
bool copies_as_is(const AVOutputFormat* format, AVCodecID codec) {
  const std::string name = format->name;
  if (name == "mp4" || name == "mov" || name == "ipod")
    return codec == AV_CODEC_ID_AAC || codec == AV_CODEC_ID_MP3;
  return avformat_query_codec(format, codec, FF_COMPLIANCE_NORMAL) == 1;
}

}  // namespace

AudioTrack::AudioTrack(AVFormatContext* output, const AVStream* input)
    : output_(output), input_(input) {
  const AVCodecParameters* in = input->codecpar;
  copy_ = copies_as_is(output->oformat, in->codec_id);
  stream_ = avformat_new_stream(output, nullptr);
  if (!stream_) throw std::bad_alloc();
  if (copy_) {
    av::check(avcodec_parameters_copy(stream_->codecpar, in), "copying the sound");
    stream_->codecpar->codec_tag = 0;  // the output container's own tag
    stream_->time_base = input->time_base;
    return;
  }
  const AVCodec* decoder = avcodec_find_decoder(in->codec_id);
  const AVCodec* encoder = audio_encoder_for(output->oformat);
  if (!decoder)
    throw std::runtime_error("no decoder for the sound (" +
                             std::string(avcodec_get_name(in->codec_id)) + ")");
  if (!encoder)
    throw std::runtime_error("no audio encoder for " + std::string(output->oformat->name));
  decoder_.reset(avcodec_alloc_context3(decoder));
  encoder_.reset(avcodec_alloc_context3(encoder));
  if (!decoder_ || !encoder_) throw std::bad_alloc();
  av::check(avcodec_parameters_to_context(decoder_.get(), in), "sound decoder");
  decoder_->pkt_timebase = input->time_base;
  av::check(avcodec_open2(decoder_.get(), decoder, nullptr), "opening the sound decoder");

  AVCodecContext* e = encoder_.get();
  const int channels = decoder_->ch_layout.nb_channels;
  // Opus past stereo needs a channel mapping; a stereo downmix plays everywhere.
  const bool opus = encoder->id == AV_CODEC_ID_OPUS;
  if (decoder_->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || (opus && channels > 2))
    av_channel_layout_default(&e->ch_layout, opus ? std::min(channels, 2) : channels);
  else
    av::check(av_channel_layout_copy(&e->ch_layout, &decoder_->ch_layout), "channel layout");
  e->sample_rate = sample_rate_for(encoder, decoder_->sample_rate);
  e->sample_fmt = encoder->sample_fmts ? encoder->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
  e->bit_rate = 64000 * std::min(e->ch_layout.nb_channels, 2) + 32000;
  e->time_base = AVRational{1, e->sample_rate};
  if (output->oformat->flags & AVFMT_GLOBALHEADER) e->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av::check(avcodec_open2(e, encoder, nullptr), "opening the audio encoder");
  av::check(avcodec_parameters_from_context(stream_->codecpar, e), "audio stream");
  stream_->time_base = e->time_base;

  SwrContext* swr = nullptr;
  av::check(
      swr_alloc_set_opts2(&swr, &e->ch_layout, e->sample_fmt, e->sample_rate, &decoder_->ch_layout,
                          decoder_->sample_fmt, decoder_->sample_rate, 0, nullptr),
      "audio resampler");
  resampler_.reset(swr);
  av::check(swr_init(swr), "audio resampler");
  fifo_ = av_audio_fifo_alloc(e->sample_fmt, e->ch_layout.nb_channels, 4096);
  if (!fifo_) throw std::bad_alloc();
}

AudioTrack::~AudioTrack() {
  if (fifo_) av_audio_fifo_free(fifo_);
}

std::string AudioTrack::description() const {
  const std::string source = avcodec_get_name(input_->codecpar->codec_id);
  if (copy_) return source + " (copied)";
  return std::string(avcodec_get_name(encoder_->codec_id)) + " (from " + source + ")";
}

void AudioTrack::write(const AVPacket& packet) {
  if (copy_) {
    av::Packet p = av::make_packet();
    av::check(av_packet_ref(p.get(), &packet), "copying a sound packet");
    av_packet_rescale_ts(p.get(), input_->time_base, stream_->time_base);
    p->stream_index = stream_->index;
    p->pos = -1;
    av::check(av_interleaved_write_frame(output_, p.get()), "writing the sound");
    return;
  }
  if (avcodec_send_packet(decoder_.get(), &packet) < 0) return;  // a damaged packet: skipped
  resample_decoded();
}

void AudioTrack::resample_decoded() {
  while (avcodec_receive_frame(decoder_.get(), decoded_.get()) >= 0) {
    AVFrame* f = decoded_.get();
    if (next_pts_ == AV_NOPTS_VALUE) {
      // The first sound keeps its place against the picture.
      const int64_t pts = f->best_effort_timestamp != AV_NOPTS_VALUE ? f->best_effort_timestamp : 0;
      next_pts_ = av_rescale_q(pts, input_->time_base, encoder_->time_base);
    }
    const int room = swr_get_out_samples(resampler_.get(), f->nb_samples);
    av::check(av_audio_fifo_realloc(fifo_, av_audio_fifo_size(fifo_) + room), "sound buffer");
    av::Frame converted = av::make_frame();
    converted->format = encoder_->sample_fmt;
    converted->nb_samples = room;
    av::check(av_channel_layout_copy(&converted->ch_layout, &encoder_->ch_layout), "layout");
    av::check(av_frame_get_buffer(converted.get(), 0), "sound buffer");
    const int got = swr_convert(resampler_.get(), converted->data, room,
                                const_cast<const uint8_t**>(f->extended_data), f->nb_samples);
    av::check(got, "resampling the sound");
    av_audio_fifo_write(fifo_, reinterpret_cast<void**>(converted->data), got);
    av_frame_unref(f);
    encode_available(false);
  }
}

void AudioTrack::encode_available(bool flush) {
  const int frame_size = encoder_->frame_size > 0 ? encoder_->frame_size : 1024;
  while (av_audio_fifo_size(fifo_) >= frame_size || (flush && av_audio_fifo_size(fifo_) > 0)) {
    const int n = std::min(frame_size, av_audio_fifo_size(fifo_));
    av::Frame frame = av::make_frame();
    frame->format = encoder_->sample_fmt;
    frame->nb_samples = n;
    frame->sample_rate = encoder_->sample_rate;
    av::check(av_channel_layout_copy(&frame->ch_layout, &encoder_->ch_layout), "layout");
    av::check(av_frame_get_buffer(frame.get(), 0), "sound buffer");
    av_audio_fifo_read(fifo_, reinterpret_cast<void**>(frame->data), n);
    frame->pts = next_pts_ == AV_NOPTS_VALUE ? 0 : next_pts_;
    next_pts_ = frame->pts + n;
    send(frame.get());
  }
}

void AudioTrack::send(AVFrame* frame) {
  av::encode_and_write(encoder_.get(), frame, output_, stream_, packet_.get(), "the sound");
}

void AudioTrack::finish() {
  if (copy_) return;
  // What the decoder and the resampler still hold.
  avcodec_send_packet(decoder_.get(), nullptr);
  resample_decoded();
  const int tail = swr_get_out_samples(resampler_.get(), 0);
  if (tail > 0) {
    av::Frame rest = av::make_frame();
    rest->format = encoder_->sample_fmt;
    rest->nb_samples = tail;
    av::check(av_channel_layout_copy(&rest->ch_layout, &encoder_->ch_layout), "layout");
    av::check(av_frame_get_buffer(rest.get(), 0), "sound buffer");
    const int got = swr_convert(resampler_.get(), rest->data, tail, nullptr, 0);
    if (got > 0) av_audio_fifo_write(fifo_, reinterpret_cast<void**>(rest->data), got);
  }
  encode_available(true);
  send(nullptr);
}

}  // namespace pastiche
