// EnumInfo: a declared enum, its members and their codes. The checker
// collects them; the evaluation tree keeps them to read and show enum values.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "source/source_file.hpp"

namespace stratum {

struct EnumInfo {
  std::string name;
  Span span;
  std::vector<std::string> members;  // code = index, in declaration order
  std::unordered_map<std::string, int32_t> codes;
};

}  // namespace stratum
