// The interface between Stratum and a rule set compiled ahead of time
// (`stratum build --native`): what a native library exports, and what Stratum
// hands it for each customer. This header is self-contained (standard
// headers only): Stratum includes it, and `stratum build --native` writes its
// text into every generated source, so both sides are compiled from the same
// declarations. A library whose kAbi differs is refused when loaded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace stratum_native {

inline constexpr uint32_t kAbi = 2;

// Laid out as stratum::eval::Value (checked where Stratum loads a library).
struct Value {
  __int128 n;
  std::string_view s;
};

// Stratum's side, called back for what the library leaves to the
// interpreter. Each returns null (or a negative number) when the
// interpreter rejects the customer; the library then gives up on the
// customer, and Stratum decides it with the interpreter, which gives the
// rejection with its reason.
struct Host {
  // The value of slot `slot` (a field, or a value the library does not compute).
  const Value* (*slot)(void* host, int32_t slot);
  // Whether constant set `set` holds `value`: 1 or 0.
  int (*set_contains)(void* host, int32_t set, const Value* value);
  // a × b exactly as the interpreter multiplies decimals (raw values); 0 on overflow.
  int (*multiply)(__int128 a, __int128 b, __int128* out);
  // a ÷ b as the interpreter divides decimals; 0 on division by zero or overflow.
  int (*divide)(__int128 a, __int128 b, __int128* out);
};

// One customer: the frame's arrays, as Stratum's Frame holds them.
struct Context {
  Value* slots;
  uint8_t* state;            // fields: 0 missing, 1 present; computed: 0 to do, 1 busy, 2 done
  int8_t* plan_conditions;   // per conditional plan: -1 not yet evaluated, else 0 / 1
  int32_t* table_hit;        // per table: -1 not yet evaluated, else its row (-2 none, -3 the else row)
  const Value* constants;    // per node of the program: its constant (text constants point into the program)
  const Value* missing;      // the value of a missing optional field
  const Host* host;
  void* host_state;
};

// What a library says of itself (`stratum_native_info`).
struct Info {
  uint32_t abi;
  uint32_t value_size;        // sizeof(Value)
  uint32_t text_offset;       // offsetof(Value, s)
  const char* fingerprint;    // the program it was generated from (native::generate)
  const char* ruleset;        // the rule set's name and version, for messages
  uint32_t slots;             // the program's slot count
  // A view of the first 5 bytes of kProbe as the library's standard library
  // lays one out: Stratum reads it with its own, and refuses the library
  // unless it finds the same address and length (libstdc++ and libc++
  // order a string_view's two members differently).
  const char* probe_text;
  std::string_view probe;
};

inline constexpr const char kProbe[] = "probe";

// The library's two functions:
//   extern "C" const Info* stratum_native_info();
//   extern "C" int stratum_native_evaluate(Context* c, int plan);
// evaluate computes every output (plan 0: the decisions alone, 1: all) into
// the context's slots and returns 1, or returns 0 when it gave up on the
// customer (a rejection, or anything it leaves to the interpreter that
// failed); never throws.
using InfoFunction = const Info* (*)();
using EvaluateFunction = int (*)(Context*, int);

}  // namespace stratum_native
