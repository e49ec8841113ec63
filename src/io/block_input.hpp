// BlockInput: reads a file in large blocks into one buffer that grows only
// when a single record is larger than it, so memory stays flat however long
// the input is.
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "io/record.hpp"

namespace stratum::io {

class BlockInput {
 public:
  explicit BlockInput(const std::string& path, size_t block = 1 << 20);
  // Over bytes already in memory (a chunk of whole records).
  struct Memory {};
  BlockInput(Memory, std::string data);
  ~BlockInput();
  BlockInput(const BlockInput&) = delete;
  BlockInput& operator=(const BlockInput&) = delete;

  const char* data() const { return buf_.data(); }
  size_t pos() const { return pos_; }
  size_t end() const { return end_; }
  bool at_eof() const { return eof_; }
  void consume_to(size_t p) { pos_ = p; }
  // Moves unconsumed bytes to the front and reads more. Offsets taken before
  // the call shift by the returned amount (subtract it). False when no more
  // bytes could be read.
  bool refill(size_t& shift);

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  std::string buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  std::string path_;
};

// Whole lines of `in` from its position, cut without reading them (see
// Reader::cut): at most about `target` bytes, ending at a line end, stopping
// before a line over `max_record` bytes or, with `quotes_stop`, a line
// holding a '"'. `blank` says whether a line (without its '\n') is no
// record. `records` and `lines` are the reader's counters (advanced);
// `line_base` is the number of the line `lines` counts as 0. False when not
// one line could be cut.
bool cut_lines(BlockInput& in, size_t target, size_t max_record, bool quotes_stop, bool (*blank)(std::string_view),
               uint64_t& records, uint64_t& lines, uint64_t line_base, std::string& data, Reader::Run& run);

}  // namespace stratum::io
