// Shared by the libFuzzer targets: inputs as files (the readers read files),
// and the invariants every output must keep.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "source/source_file.hpp"

namespace stratum::fuzz {

// The bytes as a file without touching the disk: a memfd, named by its
// /proc path. Closed when the holder goes.
class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) {
    fd_ = ::memfd_create("stratum-fuzz", 0);
    if (fd_ < 0) std::abort();
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ~MemFile() { ::close(fd_); }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// Output meant for JSON consumers is valid UTF-8 without raw control
// characters; anything else is a finding.
inline void require_clean_json_text(std::string_view s) {
  if (!utf8::valid(s)) {
    std::fprintf(stderr, "finding: output is not valid UTF-8\n");
    std::abort();
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') {
      std::fprintf(stderr, "finding: raw control character 0x%02x in output\n", c);
      std::abort();
    }
  }
}

}  // namespace stratum::fuzz
