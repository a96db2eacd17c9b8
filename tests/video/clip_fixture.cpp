#include "video/clip_fixture.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <opencv2/imgproc.hpp>

#include <cmath>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "common/fixtures.h"

namespace pastiche::testing {

namespace {

void ok(int rc, const char* what) {
  if (rc < 0) throw std::runtime_error(std::string("clip fixture: ") + what);
}

void drain(AVCodecContext* c, AVFormatContext* f, AVStream* s, AVFrame* frame) {
  ok(avcodec_send_frame(c, frame), "send frame");
  AVPacket* p = av_packet_alloc();
  while (avcodec_receive_packet(c, p) >= 0) {
    av_packet_rescale_ts(p, c->time_base, s->time_base);
    p->stream_index = s->index;
    ok(av_interleaved_write_frame(f, p), "write");
  }
  av_packet_free(&p);
}

}  // namespace

void write_test_clip(const std::string& path, const ClipSpec& spec) {
  AVFormatContext* f = nullptr;
  ok(avformat_alloc_output_context2(&f, nullptr, nullptr, path.c_str()), "format");
  const AVCodec* vcodec = avcodec_find_encoder_by_name(spec.video_codec.c_str());
  if (!vcodec) throw std::runtime_error("no encoder " + spec.video_codec);
  AVCodecContext* v = avcodec_alloc_context3(vcodec);
  v->width = spec.size.width;
  v->height = spec.size.height;
  v->time_base = {1, spec.fps};
  v->framerate = {spec.fps, 1};
  v->pix_fmt = vcodec->id == AV_CODEC_ID_MJPEG ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P;
  if (f->oformat->flags & AVFMT_GLOBALHEADER) v->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  ok(avcodec_open2(v, vcodec, nullptr), "open video encoder");
  AVStream* vs = avformat_new_stream(f, nullptr);
  avcodec_parameters_from_context(vs->codecpar, v);
  vs->time_base = v->time_base;
  if (spec.rotation) {
    auto* m = reinterpret_cast<int32_t*>(
        av_stream_new_side_data(vs, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t)));
    // FFmpeg 5.1's setter takes clockwise degrees; its getter answers counter-clockwise.
    av_display_rotation_set(m, spec.rotation);
  }
  AVCodecContext* a = nullptr;
  AVStream* as = nullptr;
  if (spec.tone_hz > 0) {
    const AVCodec* acodec = avcodec_find_encoder_by_name(spec.audio_codec.c_str());
    if (!acodec) throw std::runtime_error("no encoder " + spec.audio_codec);
    a = avcodec_alloc_context3(acodec);
    a->sample_rate = 44100;
    a->sample_fmt = acodec->sample_fmts[0];
    av_channel_layout_default(&a->ch_layout, 2);
    a->bit_rate = 128000;
    a->time_base = {1, 44100};
    if (f->oformat->flags & AVFMT_GLOBALHEADER) a->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ok(avcodec_open2(a, acodec, nullptr), "open audio encoder");
    as = avformat_new_stream(f, nullptr);
    avcodec_parameters_from_context(as->codecpar, a);
    as->time_base = a->time_base;
  }
  ok(avio_open(&f->pb, path.c_str(), AVIO_FLAG_WRITE), "create");
  ok(avformat_write_header(f, nullptr), "header");

  AVFrame* frame = av_frame_alloc();
  frame->format = v->pix_fmt;
  frame->width = v->width;
  frame->height = v->height;
  ok(av_frame_get_buffer(frame, 0), "frame");
  SwsContext* sws = sws_getContext(v->width, v->height, AV_PIX_FMT_BGR24, v->width, v->height,
                                   v->pix_fmt, SWS_BICUBIC, nullptr, nullptr, nullptr);
  const cv::Mat base = synthetic_content_image(v->width, v->height);
  for (int i = 0; i < spec.frames; ++i) {
    cv::Mat bgr = base.clone();
    cv::circle(bgr, {4 + 3 * i, v->height / 2}, std::max(3, v->height / 8), {0, 255, 255}, -1);
    av_frame_make_writable(frame);
    const uint8_t* src[1] = {bgr.data};
    const int stride[1] = {static_cast<int>(bgr.step[0])};
    sws_scale(sws, src, stride, 0, v->height, frame->data, frame->linesize);
    frame->pts = i;
    drain(v, f, vs, frame);
  }
  drain(v, f, vs, nullptr);
  if (a) {
    const int total = static_cast<int>(44100.0 * spec.frames / spec.fps);
    const int chunk = a->frame_size > 0 ? a->frame_size : 1024;
    AVFrame* s = av_frame_alloc();
    for (int start = 0; start < total; start += chunk) {
      s->nb_samples = std::min(chunk, total - start);
      s->format = a->sample_fmt;
      s->sample_rate = 44100;
      av_channel_layout_default(&s->ch_layout, 2);
      ok(av_frame_get_buffer(s, 0), "audio frame");
      for (int n = 0; n < s->nb_samples; ++n) {
        const double x = 0.5 * std::sin(2 * M_PI * spec.tone_hz * (start + n) / 44100.0);
        for (int c = 0; c < 2; ++c) {
          if (a->sample_fmt == AV_SAMPLE_FMT_S16)
            reinterpret_cast<int16_t*>(s->data[0])[2 * n + c] = static_cast<int16_t>(x * 32767);
          else if (a->sample_fmt == AV_SAMPLE_FMT_FLTP)
            reinterpret_cast<float*>(s->data[c])[n] = static_cast<float>(x);
          else
            throw std::runtime_error("clip fixture: sample format");
        }
      }
      s->pts = start;
      drain(a, f, as, s);
      av_frame_unref(s);
    }
    drain(a, f, as, nullptr);
    av_frame_free(&s);
    avcodec_free_context(&a);
  }
  ok(av_write_trailer(f), "trailer");
  sws_freeContext(sws);
  av_frame_free(&frame);
  avcodec_free_context(&v);
  avio_closep(&f->pb);
  avformat_free_context(f);
}

ClipProbe probe_clip(const std::string& path) {
  ClipProbe probe;
  AVFormatContext* f = nullptr;
  ok(avformat_open_input(&f, path.c_str(), nullptr, nullptr), "open");
  ok(avformat_find_stream_info(f, nullptr), "stream info");
  const int vi = av_find_best_stream(f, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const int ai = av_find_best_stream(f, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  std::vector<AVCodecContext*> decoders(f->nb_streams, nullptr);
  for (int i : {vi, ai}) {
    if (i < 0) continue;
    const AVCodecParameters* par = f->streams[i]->codecpar;
    decoders[i] = avcodec_alloc_context3(avcodec_find_decoder(par->codec_id));
    avcodec_parameters_to_context(decoders[i], par);
    ok(avcodec_open2(decoders[i], avcodec_find_decoder(par->codec_id), nullptr), "decoder");
  }
  if (vi >= 0) {
    const AVStream* s = f->streams[vi];
    probe.width = s->codecpar->width;
    probe.height = s->codecpar->height;
    probe.fps = av_q2d(av_guess_frame_rate(f, f->streams[vi], nullptr));
    probe.video_codec = avcodec_get_name(s->codecpar->codec_id);
    probe.pixel_format = av_get_pix_fmt_name(static_cast<AVPixelFormat>(s->codecpar->format));
    size_t size = 0;
    if (const uint8_t* m = av_stream_get_side_data(s, AV_PKT_DATA_DISPLAYMATRIX, &size))
      probe.rotation = ((static_cast<int>(std::lround(
                             -av_display_rotation_get(reinterpret_cast<const int32_t*>(m)))) %
                         360) +
                        360) %
                       360;
  }
  if (ai >= 0) {
    probe.audio_codec = avcodec_get_name(f->streams[ai]->codecpar->codec_id);
    probe.channels = f->streams[ai]->codecpar->ch_layout.nb_channels;
    probe.sample_rate = f->streams[ai]->codecpar->sample_rate;
  }
  int64_t samples = 0, rises = 0, first_rise = 0, last_rise = 0;
  bool high = false;
  AVPacket* p = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  auto receive = [&](int i) {
    while (avcodec_receive_frame(decoders[i], frame) >= 0) {
      if (i == vi) {
        ++probe.frames;
      } else {
        for (int n = 0; n < frame->nb_samples; ++n) {
          float x = 0, scale = 1;
          if (frame->format == AV_SAMPLE_FMT_FLTP || frame->format == AV_SAMPLE_FMT_FLT)
            x = reinterpret_cast<const float*>(
                frame->data[0])[frame->format == AV_SAMPLE_FMT_FLT ? n * probe.channels : n];
          else if (frame->format == AV_SAMPLE_FMT_S16) {
            x = reinterpret_cast<const int16_t*>(frame->data[0])[n * probe.channels];
            scale = 32767;
          }
          // Rising through the middle with hysteresis: the encoder's silent priming and its
          // noise do not count.
          if (x > 0.25f * scale && !high) {
            high = true;
            if (rises++ == 0) first_rise = samples + n;
            last_rise = samples + n;
          } else if (x < -0.25f * scale) {
            high = false;
          }
        }
        samples += frame->nb_samples;
      }
      av_frame_unref(frame);
    }
  };
  while (av_read_frame(f, p) >= 0) {
    if (p->stream_index < static_cast<int>(decoders.size()) && decoders[p->stream_index]) {
      avcodec_send_packet(decoders[p->stream_index], p);
      receive(p->stream_index);
    }
    av_packet_unref(p);
  }
  for (int i : {vi, ai}) {
    if (i < 0) continue;
    avcodec_send_packet(decoders[i], nullptr);
    receive(i);
    avcodec_free_context(&decoders[i]);
  }
  if (probe.sample_rate > 0) {
    probe.audio_seconds = static_cast<double>(samples) / probe.sample_rate;
    if (rises > 1)
      probe.tone_hz = (rises - 1) * probe.sample_rate / static_cast<double>(last_rise - first_rise);
  }
  av_frame_free(&frame);
  av_packet_free(&p);
  avformat_close_input(&f);
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto moov = bytes.find("moov"), mdat = bytes.find("mdat");
  probe.index_first = moov != std::string::npos && mdat != std::string::npos && moov < mdat;
  return probe;
}

}  // namespace pastiche::testing
