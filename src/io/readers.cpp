#include "io/readers.hpp"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

namespace stratum::io {

std::optional<Format> format_from_name(std::string_view path) {
  auto ends = [&](std::string_view s) {
    return path.size() >= s.size() && path.substr(path.size() - s.size()) == s;
  };
  if (ends(".csv") || ends(".CSV")) return Format::csv;
  if (ends(".jsonl") || ends(".ndjson") || ends(".json")) return Format::jsonl;
  if (ends(".yaml") || ends(".yml")) return Format::yaml;
  return std::nullopt;
}

std::unique_ptr<Reader> open_reader(const std::string& path, Format format) {
  switch (format) {
    case Format::csv: return make_csv_reader(path);
    case Format::jsonl: return make_jsonl_reader(path);
    case Format::yaml: return make_yaml_reader(path);
  }
  throw std::logic_error("unknown format");
}

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty() || a == "-" || b == "-") return false;
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return S_ISREG(sa.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  auto st = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(st)) throw std::runtime_error(fmt::format("cannot read {}: it is a folder", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error(fmt::format("cannot read {}: {}", path,
                                         std::filesystem::exists(st) ? std::strerror(errno) : "no such file"));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("cannot read {}", path));
  return ss.str();
}

}  // namespace stratum::io
