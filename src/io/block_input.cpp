#include "io/block_input.hpp"

#include <cerrno>
#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace stratum::io {

BlockInput::BlockInput(const std::string& path, size_t block) : path_(path) {
  if (path == "-") {
    file_ = stdin;
  } else {
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) throw std::runtime_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    owned_ = true;
  }
  buf_.resize(block);
}

BlockInput::BlockInput(Memory, std::string data) : buf_(std::move(data)), end_(buf_.size()), eof_(true) {}

BlockInput::~BlockInput() {
  if (owned_ && file_) std::fclose(file_);
}

bool BlockInput::refill(size_t& shift) {
  shift = pos_;
  if (eof_) return false;
  std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
  end_ -= pos_;
  pos_ = 0;
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, file_);
  if (n == 0) {
    if (std::ferror(file_)) throw std::runtime_error(fmt::format("cannot read {}: {}", path_, std::strerror(errno)));
    eof_ = true;
    return false;
  }
  end_ += n;
  return true;
}

bool cut_lines(BlockInput& in, size_t target, size_t max_record, bool quotes_stop, bool (*blank)(std::string_view),
               uint64_t& records, uint64_t& lines, uint64_t line_base, std::string& data, Reader::Run& run) {
  // More bytes only when not one whole line is left (a refill moves what is).
  if (!in.at_eof() && !std::memchr(in.data() + in.pos(), '\n', in.end() - in.pos())) {
    size_t shift;
    in.refill(shift);
  }
  const char* d = in.data();
  size_t start = in.pos(), end = std::min(in.end(), start + target);
  if (quotes_stop) {
    // (memchr scans many bytes at a time)
    if (const void* q = std::memchr(d + start, '"', end - start)) end = static_cast<size_t>(static_cast<const char*>(q) - d);
  }
  size_t at = start;
  uint64_t first_line = line_base + lines, first_number = records + 1;
  while (at < end) {
    const void* nl = std::memchr(d + at, '\n', end - at);
    if (!nl) break;  // the rest is not a whole line (or holds the quote)
    size_t stop = static_cast<size_t>(static_cast<const char*>(nl) - d) + 1;
    if (stop - at > max_record) break;  // next() rejects it, and says why
    if (!blank(std::string_view(d + at, stop - 1 - at))) {
      ++records;
      ++run.records;
    }
    ++lines;
    at = stop;
  }
  if (at == start) return false;
  if (!run.started) {
    run.started = true;
    run.first_line = first_line;
    run.first_number = first_number;
  }
  data.append(d + start, at - start);
  in.consume_to(at);
  return true;
}

}  // namespace stratum::io
