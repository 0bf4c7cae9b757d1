// Writes the seed corpora of the fuzz targets from the test vectors:
//   fuzz_seed_corpus VECTORS_DIR OUT_DIR
// gives OUT_DIR/{gdw1376_fuzz,dlt645_fuzz,frame_json_fuzz}/<vector id>, one raw frame per file
// (1376.1 frames for the 1376.1 target, 645 frames — including the recorded simulator exchanges
// and the payloads forwarded in AFN10 — for the 645 target, all of them for the JSON target).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "acquisition/protocol/frame_json.h"

namespace {

namespace fs = std::filesystem;
using gridmis::acquisition::protocol::Bytes;
using gridmis::acquisition::protocol::ParseHex;

bool Write(const fs::path& dir, const std::string& name, const Bytes& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  return out.good();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s VECTORS_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  const fs::path vectors = argv[1], out = argv[2];
  struct File {
    const char* name;
    const char* target;
  };
  int written = 0;
  for (File f : {File{"gdw3761_real_capture.json", "gdw1376_fuzz"},
                 File{"gdw3761_constructed.json", "gdw1376_fuzz"},
                 File{"dlt645_2007.json", "dlt645_fuzz"}}) {
    std::ifstream in(vectors / f.name);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", (vectors / f.name).c_str());
      return 1;
    }
    nlohmann::json doc = nlohmann::json::parse(in);
    std::vector<std::pair<std::string, std::string>> frames;  // id, hex
    for (const auto& v : doc["vectors"]) frames.emplace_back(v["id"], v["hex"]);
    if (doc.contains("peer_simulator_exchanges")) {
      for (const auto& p : doc["peer_simulator_exchanges"]["pairs"]) {
        frames.emplace_back(p["id"].get<std::string>() + "-request", p["request_hex"]);
        frames.emplace_back(p["id"].get<std::string>() + "-response", p["response_hex"]);
      }
    }
    for (const auto& [id, hex] : frames) {
      auto bytes = ParseHex(hex);
      if (!bytes.ok()) {
        std::fprintf(stderr, "%s %s: %s\n", f.name, id.c_str(), bytes.status().message().c_str());
        return 1;
      }
      if (!Write(out / f.target, id, *bytes) || !Write(out / "frame_json_fuzz", id, *bytes)) {
        std::fprintf(stderr, "cannot write under %s\n", out.c_str());
        return 1;
      }
      ++written;
      // A 645 frame forwarded inside AFN10 also seeds the 645 target.
      auto j = gridmis::acquisition::protocol::FrameToJson(*bytes);
      for (const auto& g : j.value("groups", nlohmann::json::array())) {
        for (const auto& it : g["items"]) {
          if (!it.contains("data") || !it["data"].contains("payload")) continue;
          auto payload = ParseHex(it["data"]["payload"].get<std::string>());
          if (payload.ok() && !payload->empty())
            Write(out / "dlt645_fuzz", id + "-payload", *payload);
        }
      }
    }
  }
  std::printf("%d seed frames written under %s\n", written, out.c_str());
  return 0;
}
