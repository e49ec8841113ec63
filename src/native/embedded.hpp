// Texts written into every generated source (see codegen.cpp): the headers
// native/abi.hpp and value/decimal_fast.hpp, embedded when Stratum is built
// (CMakeLists.txt), so the library and Stratum share their declarations.
#pragma once

namespace stratum::native {

extern const char* const kAbiHeaderText;
extern const char* const kDecimalFastText;

}  // namespace stratum::native
