// Protocol codec throughput on one core: frames decoded per second (items_per_second) and MB/s
// (bytes_per_second) for the replies the collection reads most, decoded as ingestion decodes
// them (the frame, then every item's data):
//   - AFN0D F161 daily frozen forward active indication, 64 points, M = 4 (8 DA groups);
//   - AFN0D F101 indication curve of 96 points (one day at 15 minutes);
//   - ScanFrame over a stream of mixed frames (the front end's framing loop);
//   - a DL/T 645 read reply (FE preamble, DI 00010000) and a 645 block reply;
//   - FrameToJson of the F161 reply (the console's communication log).
//
//   codec_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "acquisition/protocol/dlt645.h"
#include "acquisition/protocol/frame_json.h"
#include "acquisition/protocol/gdw1376.h"

namespace gridmis::acquisition {
namespace {

namespace g = gdw1376;
namespace d = dlt645;

g::Address Terminal() {
  g::Address a;
  a.terminal = {3201, 4660};
  a.msa = 1;
  return a;
}

// The reply a terminal sends to an F161 request for points 1..n.
g::Bytes F161Reply(int points) {
  std::vector<uint16_t> pns;
  for (int p = 1; p <= points; ++p) pns.push_back(static_cast<uint16_t>(p));
  g::Frame request = g::MakeRequest(Terminal(), g::kAfnClass2, 3,
                                    g::GroupsFor(pns, 161, g::EncodeTd({2024, 3, 14})));
  std::vector<g::Group> groups;
  for (const g::Group& rg : request.groups) {
    g::Group group = rg;
    group.items.clear();
    for (uint16_t pn : rg.pns) {
      g::DailyIndication v;
      v.day = {2024, 3, 14};
      v.value.reading_time = {2024, 3, 15, 0, 5};
      v.value.rates = 4;
      int64_t base = 10'000'000 * pn;
      v.value.values = {Energy::FromDwh(base * 10), Energy::FromDwh(base),
                        Energy::FromDwh(base * 2), Energy::FromDwh(base * 3),
                        Energy::FromDwh(base * 4)};
      group.items.push_back({pn, 161, g::EncodeDailyIndication(v, true)});
    }
    groups.push_back(std::move(group));
  }
  auto bytes = g::Encode(g::MakeResponse(request, g::kAfnClass2, std::move(groups)));
  if (!bytes.ok()) std::abort();
  return *bytes;
}

g::Bytes F101Reply(int points) {
  g::MinuteTime start{2024, 3, 14, 0, 0};
  g::Frame request = g::MakeRequest(Terminal(), g::kAfnClass2, 4,
                                    g::GroupsFor({1}, 101, g::EncodeTdCurve(start, 1, points)));
  g::Curve c;
  c.start = start;
  c.density_code = 1;
  c.interval_minutes = 15;
  for (int k = 0; k < points; ++k)
    c.energy.push_back(Energy::FromDwh(1'000'000'00 + k * 2500 * 100));
  std::vector<g::Group> groups = request.groups;
  groups[0].items = {{1, 101, g::EncodeCurve(101, c)}};
  auto bytes = g::Encode(g::MakeResponse(request, g::kAfnClass2, std::move(groups)));
  if (!bytes.ok()) std::abort();
  return *bytes;
}

void BM_DecodeF161Reply64Points(benchmark::State& state) {
  const g::Bytes frame = F161Reply(64);
  int64_t values = 0;
  for (auto _ : state) {
    auto f = g::Decode(frame);
    if (!f.ok()) state.SkipWithError("decode failed");
    for (const auto& group : f->groups) {
      for (const auto& item : group.items) {
        auto v = g::DecodeDailyIndication(item.data, true);
        values += static_cast<int64_t>(v->value.values.size());
      }
    }
    benchmark::DoNotOptimize(values);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
  state.counters["frame_bytes"] = static_cast<double>(frame.size());
}
BENCHMARK(BM_DecodeF161Reply64Points);

void BM_DecodeF101Curve96Points(benchmark::State& state) {
  const g::Bytes frame = F101Reply(96);
  int64_t points = 0;
  for (auto _ : state) {
    auto f = g::Decode(frame);
    if (!f.ok()) state.SkipWithError("decode failed");
    auto c = g::DecodeCurve(101, f->groups[0].items[0].data);
    points += static_cast<int64_t>(c->energy.size());
    benchmark::DoNotOptimize(points);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
  state.counters["frame_bytes"] = static_cast<double>(frame.size());
}
BENCHMARK(BM_DecodeF101Curve96Points);

// A 1 MB stream: heartbeats, F161 replies of 8 points and curve replies, with a garbage byte
// after every tenth frame; items = frames found.
void BM_ScanFrameStream(benchmark::State& state) {
  const g::Bytes heartbeat = *g::Encode(g::MakeLink({3201, 4660}, 3, 1));
  const g::Bytes f161 = F161Reply(8), f101 = F101Reply(96);
  g::Bytes stream;
  int64_t frames = 0;
  for (int k = 0; stream.size() < (1 << 20); ++k) {
    const g::Bytes& f = k % 3 == 0 ? heartbeat : k % 3 == 1 ? f161 : f101;
    stream.insert(stream.end(), f.begin(), f.end());
    ++frames;
    if (k % 10 == 9) stream.push_back(0x00);
  }
  for (auto _ : state) {
    size_t pos = 0;
    int64_t found = 0;
    while (pos < stream.size()) {
      auto s = g::ScanFrame(g::ByteSpan(stream).subspan(pos));
      if (s.kind == g::Scan::kNeedMore) break;
      found += s.kind == g::Scan::kFrame;
      pos += s.length;
    }
    if (found != frames) state.SkipWithError("frames lost");
  }
  state.SetItemsProcessed(state.iterations() * frames);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(stream.size()));
}
BENCHMARK(BM_ScanFrameStream);

void BM_Dlt645ReadReply(benchmark::State& state) {
  d::Frame reply = d::MakeReadReply(d::MakeRead("000000000001", 0x00010000),
                                    d::EncodeEnergies({Energy::FromDwh(12345600)}));
  reply.leading_fe = 4;
  const d::Bytes frame = d::Encode(reply);
  for (auto _ : state) {
    auto f = d::Decode(frame);
    auto r = d::DecodeReadReply(*f);
    auto e = d::DecodeEnergies(r->di, r->value);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
}
BENCHMARK(BM_Dlt645ReadReply);

void BM_Dlt645DailyFrozenBlock(benchmark::State& state) {
  const d::Bytes frame = d::Encode(d::MakeReadReply(
      d::MakeRead("000000000001", 0x05060101),
      d::EncodeEnergies({Energy::FromKwh(100), Energy::FromKwh(10), Energy::FromKwh(20),
                         Energy::FromKwh(30), Energy::FromKwh(40)})));
  for (auto _ : state) {
    auto f = d::Decode(frame);
    auto r = d::DecodeReadReply(*f);
    auto e = d::DecodeEnergies(r->di, r->value);
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
}
BENCHMARK(BM_Dlt645DailyFrozenBlock);

void BM_FrameToJsonF161Reply(benchmark::State& state) {
  const g::Bytes frame = F161Reply(8);
  for (auto _ : state) {
    std::string s = protocol::FrameToJson(frame).dump();
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(frame.size()));
}
BENCHMARK(BM_FrameToJsonF161Reply);

}  // namespace
}  // namespace gridmis::acquisition

BENCHMARK_MAIN();
