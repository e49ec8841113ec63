#include "io/block_input.hpp"

#include <cerrno>
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

}  // namespace stratum::io
