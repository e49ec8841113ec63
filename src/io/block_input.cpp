#include "io/block_input.hpp"

#include <cerrno>
#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "io/byte_scan.hpp"

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
  // The line ending at `newline`: false when it is left to next() (too long).
  auto line = [&](size_t newline) {
    size_t stop = newline + 1;
    if (stop - at > max_record) return false;  // next() rejects it, and says why
    // A line starting with anything but white space is not blank.
    char first = d[at];
    if ((newline > at && first != ' ' && first != '\t' && first != '\r') || !blank(std::string_view(d + at, newline - at))) {
      ++records;
      ++run.records;
    }
    ++lines;
    at = stop;
    return true;
  };
  size_t i = start;
  bool stopped = false;
  // Line ends found 16 bytes at a time, then the rest by memchr.
  for (; i + 16 <= end && !stopped; i += 16) {
    for (unsigned hits = match16<false, '\n'>(d + i); hits; hits &= hits - 1) {
      if (!line(i + static_cast<size_t>(std::countr_zero(hits)))) {
        stopped = true;
        break;
      }
    }
  }
  while (!stopped && i < end) {
    const void* nl = std::memchr(d + i, '\n', end - i);
    if (!nl) break;  // the rest is not a whole line (or holds the quote)
    size_t at_newline = static_cast<size_t>(static_cast<const char*>(nl) - d);
    if (!line(at_newline)) break;
    i = at_newline + 1;
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
