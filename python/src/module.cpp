// _stratum: the engine as a Python extension. The Python package `stratum`
// (python/stratum/__init__.py) wraps it; this file converts between Python
// values and the engine's records, and decides DataFrame columns in bulk:
// the columns are read once into views while holding the GIL, then every
// core decides its share of the rows without it, writing into preallocated
// arrays, and only then are result columns built.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <exception>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "engine/batch.hpp"
#include "engine/decider.hpp"
#include "engine/rule_set.hpp"
#include "engine/versions.hpp"
#include "io/writer.hpp"
#include "report/report.hpp"
#include "value/date.hpp"

namespace py = pybind11;
using namespace stratum;

namespace {

// ---------------------------------------------------------------- Python → text

struct Python {
  py::object decimal_type, date_type, datetime_type;
  py::object list_type, tuple_type, set_type, frozenset_type;
  Python() {
    auto decimal = py::module_::import("decimal");
    auto datetime = py::module_::import("datetime");
    decimal_type = decimal.attr("Decimal");
    date_type = datetime.attr("date");
    datetime_type = datetime.attr("datetime");
  }
};

Python& python() {
  static Python* p = new Python();  // lives as long as the interpreter
  return *p;
}

// A float through its shortest decimal representation, written as Python's
// repr() writes it: positional from 1e-4 up to 1e16 ("0.1", "2999999.99"),
// else with an exponent ("1e+23", "1.2345678901234566e+17"), which the
// engine reads exactly (1e+23 is 10^23). Never a binary expansion.
template <class F>
void float_text(F value, std::string& out) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) {
    out.clear();
    return;
  }
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  size_t e = sci.find('e');
  int exponent = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1), sci.data() + sci.size(), exponent);
  bool negative = sci[0] == '-';
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c >= '0' && c <= '9') digits += c;
  }
  if (exponent < -4 || exponent >= 16) {
    out.assign(sci);
    return;
  }
  out.assign(negative ? "-" : "");
  if (exponent < 0) {
    out += "0.";
    out.append(static_cast<size_t>(-exponent - 1), '0');
    out += digits;
    return;
  }
  size_t whole = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= whole) {
    out += digits;
    out.append(whole - digits.size(), '0');
  } else {
    out.append(digits, 0, whole);
    out += '.';
    out.append(digits, whole, std::string::npos);
  }
}

void int_text(int64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.assign(buf, end);
}

std::string type_name(PyObject* o) { return Py_TYPE(o)->tp_name; }

// A float as a field: NaN is missing, infinity refused, else `write` gives
// its shortest digits.
template <class Write>
std::optional<std::string> float_field(double v, io::RawField& f, std::string& text, Write write) {
  if (std::isnan(v)) {
    f.kind = io::RawKind::null;
    return std::nullopt;
  }
  if (std::isinf(v)) return std::string("infinity is not a number a record holds");
  write(text);
  f.kind = io::RawKind::number;
  f.text = text;
  return std::nullopt;
}

std::string unsupported(PyObject* o) {
  return fmt::format("a Python {} is not a value a record holds (give str, int, decimal.Decimal, float, bool, "
                     "datetime.date, a list of these, or None)",
                     type_name(o));
}

// One Python value as a record field: its kind and its text (in `text` when
// it had to be written; else viewing the object's own UTF-8). Returns an
// error message for a value that cannot be a field.
std::optional<std::string> to_field(PyObject* o, io::RawField& f, std::string& text, std::vector<std::string>* items_text) {
  Python& p = python();
  f.items.clear();
  if (o == Py_None) {
    f.kind = io::RawKind::null;
    return std::nullopt;
  }
  if (PyUnicode_Check(o)) {
    Py_ssize_t size = 0;
    const char* s = PyUnicode_AsUTF8AndSize(o, &size);
    if (!s) {
      // Bytes a reader kept as surrogates (errors="surrogateescape") are
      // given back as the bytes they were, so they are refused as the CLI
      // refuses them: not UTF-8, at that byte.
      PyErr_Clear();
      PyObject* raw = PyUnicode_AsEncodedString(o, "utf-8", "surrogateescape");
      if (!raw) {
        PyErr_Clear();
        return std::string("the text is not valid Unicode (it holds a lone surrogate)");
      }
      text.assign(PyBytes_AS_STRING(raw), static_cast<size_t>(PyBytes_GET_SIZE(raw)));
      Py_DECREF(raw);
      f.kind = io::RawKind::text;
      f.text = text;
      return std::nullopt;
    }
    f.kind = io::RawKind::text;
    f.text = std::string_view(s, size);
    return std::nullopt;
  }
  if (PyBool_Check(o)) {
    f.kind = io::RawKind::boolean;
    f.text = o == Py_True ? "true" : "false";
    return std::nullopt;
  }
  if (PyLong_Check(o)) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow) {
      // Far beyond the exact range: refused without writing out its digits.
      size_t bits = _PyLong_NumBits(o);
      if (bits == static_cast<size_t>(-1) && PyErr_Occurred()) throw py::error_already_set();
      if (bits > 128) return std::string("number out of range (the exact range is below 10^24 in absolute value)");
      text = py::str(o).cast<std::string>();
    } else {
      int_text(v, text);
    }
    f.kind = io::RawKind::number;
    f.text = text;
    return std::nullopt;
  }
  if (PyFloat_Check(o)) {  // NaN: pandas' missing value
    double v = PyFloat_AS_DOUBLE(o);
    return float_field(v, f, text, [&](std::string& out) { float_text(v, out); });
  }
  int is_decimal = PyObject_IsInstance(o, p.decimal_type.ptr());
  if (is_decimal < 0) throw py::error_already_set();
  if (is_decimal) {
    py::handle h(o);
    if (h.attr("is_nan")().cast<bool>()) {
      f.kind = io::RawKind::null;
      return std::nullopt;
    }
    if (h.attr("is_infinite")().cast<bool>()) return std::string("infinity is not a number a record holds");
    text = py::str(h).cast<std::string>();  // "1.50", "3E+6": read exactly, exponent and all
    f.kind = io::RawKind::number;
    f.text = text;
    return std::nullopt;
  }
  int is_datetime = PyObject_IsInstance(o, p.datetime_type.ptr());
  if (is_datetime < 0) throw py::error_already_set();
  int is_date = PyObject_IsInstance(o, p.date_type.ptr());
  if (is_date < 0) throw py::error_already_set();
  if (is_date) {
    py::handle h(o);
    if (is_datetime) {
      // A timestamp is a date only at midnight, without a time zone.
      bool midnight = h.attr("hour").cast<int>() == 0 && h.attr("minute").cast<int>() == 0 &&
                      h.attr("second").cast<int>() == 0 && h.attr("microsecond").cast<int>() == 0 &&
                      h.attr("tzinfo").is_none();
      if (py::hasattr(h, "nanosecond")) midnight = midnight && h.attr("nanosecond").cast<int>() == 0;
      text = midnight ? h.attr("date")().attr("isoformat")().cast<std::string>() : h.attr("isoformat")().cast<std::string>();
    } else {
      text = h.attr("isoformat")().cast<std::string>();
    }
    f.kind = io::RawKind::text;
    f.text = text;
    return std::nullopt;
  }
  if (items_text && (PyList_Check(o) || PyTuple_Check(o) || PyAnySet_Check(o))) {
    py::handle h(o);
    items_text->clear();
    for (py::handle item : h) {
      io::RawField one;
      std::string t;
      if (auto problem = to_field(item.ptr(), one, t, nullptr)) return "list item: " + *problem;
      if (one.kind == io::RawKind::null) return std::string("a list item is missing (None)");
      items_text->emplace_back(t.empty() ? std::string(one.text) : t);
    }
    // Set items in a stable order, so the set's text is the same however built.
    if (PyAnySet_Check(o)) std::sort(items_text->begin(), items_text->end());
    f.kind = io::RawKind::array;
    for (const auto& s : *items_text) f.items.push_back(s);
    return std::nullopt;
  }
  if (PyDict_Check(o)) {
    f.kind = io::RawKind::object;
    return std::nullopt;
  }
  // pandas' missing values (pd.NA, pd.NaT) and NumPy's scalars, known by
  // name: no pandas or NumPy import here.
  std::string_view name = Py_TYPE(o)->tp_name;
  if (name == "NAType" || name == "NaTType") {
    f.kind = io::RawKind::null;
    return std::nullopt;
  }
  if (name == "numpy.bool_") {
    int truth = PyObject_IsTrue(o);
    if (truth < 0) throw py::error_already_set();
    f.kind = io::RawKind::boolean;
    f.text = truth ? "true" : "false";
    return std::nullopt;
  }
  if (name == "numpy.ndarray") {
    py::handle h(o);
    if (items_text && h.attr("ndim").cast<int>() == 1) {
      py::list items = h.attr("tolist")();
      return to_field(items.ptr(), f, text, items_text);
    }
    return unsupported(o);
  }
  if (name == "numpy.float16" || name == "numpy.float32") {
    double v = PyFloat_AsDouble(o);
    if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
    return float_field(v, f, text, [&](std::string& out) {
      if (name == "numpy.float32") float_text(static_cast<float>(v), out);
      else out = py::str(o).cast<std::string>();  // NumPy's shortest digits for a half
    });
  }
  if (name.starts_with("numpy.") && PyIndex_Check(o)) {  // NumPy's integers
    py::object as_int = py::reinterpret_steal<py::object>(PyNumber_Index(o));
    if (!as_int) throw py::error_already_set();
    return to_field(as_int.ptr(), f, text, items_text);
  }
  return unsupported(o);
}

// ---------------------------------------------------------------- text → Python

// A day as datetime.date (years 1 to 9999), else as its ISO text.
py::object py_date(int32_t days) {
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (y < 1 || y > 9999) return py::str(fmt::format("{:04}-{:02}-{:02}", y, m, d));
  return python().date_type(y, m, d);
}

class Results {
 public:
  explicit Results(const eval::Program& p) : program_(p) {}

  py::object value(const eval::Value& v, const Type& t) {
    if (eval::is_missing(v)) return py::none();
    if (t.is_set) return text(v, t);
    switch (t.base) {
      case BaseType::boolean: return py::bool_(v.n != 0);
      case BaseType::enum_: return py::str(program_.enums[t.enum_id].members[static_cast<size_t>(v.n)]);
      case BaseType::int_:
      case BaseType::decimal:
      case BaseType::money: return decimal(v, t);
      case BaseType::date: return py_date(static_cast<int32_t>(v.n));
      default: return text(v, t);
    }
  }

  // A number as decimal.Decimal from the text the CLI writes: the same digits.
  py::object decimal(const eval::Value& v, const Type& t) {
    buf_.clear();
    program_.append_text(buf_, v, t);
    return python().decimal_type(py::str(buf_));
  }
  py::object text(const eval::Value& v, const Type& t) {
    buf_.clear();
    program_.append_text(buf_, v, t);
    return py::str(buf_);
  }

 private:
  const eval::Program& program_;
  std::string buf_;
};

// ---------------------------------------------------------------- one record

struct RecordInput {
  io::RawRecord raw;
  std::deque<std::string> texts;
  std::deque<std::vector<std::string>> items;
};

// Fills `in` from a mapping of column names to values. Returns the column and
// the reason when a value cannot be a field.
std::optional<engine::Rejection> from_mapping(const eval::Program& p, py::handle record, RecordInput& in) {
  in.raw = {};
  in.raw.number = 1;
  in.raw.fields.resize(p.fields.size());
  std::optional<engine::Rejection> first;
  if (!PyDict_Check(record.ptr()) && !(py::hasattr(record, "__contains__") && py::hasattr(record, "__getitem__"))) {
    throw py::type_error(fmt::format("a record is a dict of column → value, not a {}", type_name(record.ptr())));
  }
  for (size_t i = 0; i < p.fields.size(); ++i) {
    py::str column(p.fields[i].column);
    io::RawField& f = in.raw.fields[i];
    if (!record.attr("__contains__")(column).cast<bool>()) {
      f.kind = io::RawKind::absent;
      continue;
    }
    py::object value = record.attr("__getitem__")(column);
    in.texts.emplace_back();
    in.items.emplace_back();
    // A str's view is its own UTF-8, alive as long as `record` holds it.
    if (auto problem = to_field(value.ptr(), f, in.texts.back(), &in.items.back())) {
      f = {};
      if (!first) first = engine::Rejection{p.fields[i].column, *problem};
    }
  }
  return first;
}

std::optional<int32_t> as_of_day(const std::optional<std::string>& as_of) {
  if (!as_of) return std::nullopt;
  auto day = parse_iso_date(*as_of);
  if (!day) throw py::value_error(fmt::format("as_of {}: expected a date YYYY-MM-DD", *as_of));
  return day;
}

py::dict decided_dict(const eval::Program& p, const eval::Frame& frame, py::handle record) {
  py::dict out;
  Results results(p);
  if (p.key_field >= 0) {
    // The key as the CLI writes it: a text key is the given str itself; an
    // int key an int ("0005" is 5); others as any decided value.
    const eval::Field& kf = p.fields[p.key_field];
    const eval::Value& v = frame.slots[p.key_field];
    py::object given = record.attr("__getitem__")(py::str(kf.column));
    py::object key;
    if (!kf.type.is_set && kf.type.base == BaseType::text && PyUnicode_Check(given.ptr())) {
      key = given;
    } else if (!kf.type.is_set && kf.type.base == BaseType::int_ && !eval::is_missing(v)) {
      std::string digits;
      p.append_text(digits, v, kf.type);
      key = py::reinterpret_steal<py::object>(PyLong_FromString(digits.c_str(), nullptr, 10));
      if (!key) throw py::error_already_set();
    } else {
      key = results.value(v, kf.type);
    }
    out[py::str(kf.name)] = key;
  }
  for (const auto& o : p.outputs) out[py::str(o.name)] = results.value(frame.slots[o.slot], o.type);
  return out;
}

// ---------------------------------------------------------------- columns

// How a column arrives from the Python side.
enum class ColumnKind : int { absent = 0, objects = 1, int64 = 2, float64 = 3, boolean = 4, datetime_ns = 5, float32 = 6 };

struct Column {
  ColumnKind kind = ColumnKind::absent;
  py::array array;  // kept alive while deciding
  const char* data = nullptr;
  ssize_t stride = 0;
  // objects: each row read into a field beforehand
  std::vector<io::RawKind> kinds;
  std::vector<std::string_view> texts;
  std::vector<uint8_t> is_str;             // the row's value is a str (its text is the value itself)
  std::vector<uint32_t> item_begin;        // per row: its first item in `items` (lists), then one past the end
  std::vector<std::string_view> items;
  std::deque<std::string> store;           // texts written while reading
  std::unordered_map<size_t, std::string> problems;  // row → why the value cannot be a field
};

void read_objects(Column& c, size_t rows) {
  c.kinds.resize(rows);
  c.texts.resize(rows);
  c.is_str.assign(rows, 0);
  std::string text;
  std::vector<std::string> items_text;
  bool any_items = false;
  std::vector<std::pair<size_t, std::vector<std::string_view>>> lists;
  for (size_t r = 0; r < rows; ++r) {
    PyObject* o = *reinterpret_cast<PyObject* const*>(c.data + r * c.stride);
    c.is_str[r] = PyUnicode_Check(o) ? 1 : 0;
    io::RawField f;
    text.clear();
    if (auto problem = to_field(o, f, text, &items_text)) {
      c.problems.emplace(r, *problem);
      c.kinds[r] = io::RawKind::absent;
      continue;
    }
    c.kinds[r] = f.kind;
    if (f.kind == io::RawKind::array) {
      std::vector<std::string_view> views;
      for (auto& s : items_text) views.push_back(c.store.emplace_back(s));
      lists.emplace_back(r, std::move(views));
      any_items = true;
    } else if (!text.empty() && f.text.data() == text.data()) {
      c.texts[r] = c.store.emplace_back(text);
    } else {
      c.texts[r] = f.text;
    }
  }
  if (any_items) {
    c.item_begin.assign(rows + 1, 0);
    size_t at = 0;
    for (auto& [row, views] : lists) {
      for (size_t r = at; r <= row; ++r) c.item_begin[r] = static_cast<uint32_t>(c.items.size());
      c.items.insert(c.items.end(), views.begin(), views.end());
      at = row + 1;
    }
    for (size_t r = at; r <= rows; ++r) c.item_begin[r] = static_cast<uint32_t>(c.items.size());
  }
}

// Row r of a column as a record field; `buf` holds written text.
bool column_field(const Column& c, size_t r, io::RawField& f, std::string& buf, std::string& problem) {
  f.items.clear();
  const char* at = c.data + r * c.stride;
  switch (c.kind) {
    case ColumnKind::absent:
      f.kind = io::RawKind::absent;
      return true;
    case ColumnKind::int64: {
      int64_t v;
      std::memcpy(&v, at, sizeof v);
      int_text(v, buf);
      f.kind = io::RawKind::number;
      f.text = buf;
      return true;
    }
    case ColumnKind::float64:
    case ColumnKind::float32: {
      double v;
      if (c.kind == ColumnKind::float64) {
        std::memcpy(&v, at, sizeof v);
      } else {
        float x;
        std::memcpy(&x, at, sizeof x);
        v = x;
      }
      if (std::isnan(v)) {
        f.kind = io::RawKind::null;
        return true;
      }
      if (std::isinf(v)) {
        problem = "infinity is not a number a record holds";
        return false;
      }
      if (c.kind == ColumnKind::float64) {
        float_text(v, buf);
      } else {
        float x;
        std::memcpy(&x, at, sizeof x);
        float_text(x, buf);
      }
      f.kind = io::RawKind::number;
      f.text = buf;
      return true;
    }
    case ColumnKind::boolean:
      f.kind = io::RawKind::boolean;
      f.text = *reinterpret_cast<const bool*>(at) ? "true" : "false";
      return true;
    case ColumnKind::datetime_ns: {
      int64_t ns;
      std::memcpy(&ns, at, sizeof ns);
      if (ns == INT64_MIN) {  // NaT
        f.kind = io::RawKind::null;
        return true;
      }
      constexpr int64_t kDay = 86'400'000'000'000;
      int64_t days = ns / kDay, rest = ns % kDay;
      if (rest < 0) { rest += kDay; --days; }
      int y;
      unsigned m, d;
      civil_from_days(static_cast<int32_t>(days), y, m, d);
      buf = fmt::format("{:04}-{:02}-{:02}", y, m, d);
      if (rest) {
        int64_t s = rest / 1'000'000'000;
        buf += fmt::format("T{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
        if (rest % 1'000'000'000) buf += fmt::format(".{:09}", rest % 1'000'000'000);
      }
      f.kind = io::RawKind::text;
      f.text = buf;
      return true;
    }
    case ColumnKind::objects: {
      if (!c.problems.empty()) {
        auto it = c.problems.find(r);
        if (it != c.problems.end()) {
          problem = it->second;
          return false;
        }
      }
      f.kind = c.kinds[r];
      f.text = c.texts[r];
      if (f.kind == io::RawKind::array) {
        f.items.assign(c.items.begin() + c.item_begin[r], c.items.begin() + c.item_begin[r + 1]);
      }
      return true;
    }
  }
  return true;
}

// What the threads write: per output, one value per row.
// Distinct texts, each kept once: a row holds its text's number.
struct Interner {
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> index;
  std::vector<std::string> values;
  uint32_t id(std::string_view text) {  // 1-based
    auto it = index.find(text);
    if (it != index.end()) return it->second;
    values.emplace_back(text);
    uint32_t id = static_cast<uint32_t>(values.size());
    index.emplace(values.back(), id);
    return id;
  }
};

struct OutputColumn {
  eval::Output output;
  std::vector<int32_t> codes;     // enum (code, -1 no value) and bool (0/1, -1)
  std::vector<uint32_t> ids;      // everything else: the CLI's text, by number in its thread's
                                  // interner (0: no value)
  std::vector<Interner> interned; // per thread
  bool key = false;               // the key field, given back as the CLI writes it
  bool pass_through = false;      // key: a str value is given back as the input's own object
  // key: nearly every value differs, so each row's text goes to its thread's
  // arena (offset in `ids`, length here) rather than to an interner.
  std::vector<uint32_t> lengths;
  std::vector<std::string> arena;  // per thread
};

constexpr uint32_t kPassThrough = UINT32_MAX;

bool coded(const Type& t) { return !t.is_set && (t.base == BaseType::enum_ || t.base == BaseType::boolean); }

struct RowRejection {
  size_t row;
  std::string key, column, reason;
};

py::tuple decide_columns(const engine::RuleSet& rules, py::list columns, size_t rows, std::optional<std::string> as_of,
                         unsigned threads) {
  const eval::Program& p = rules.program();
  if (columns.size() != p.fields.size()) throw py::value_error("one column per input field is expected");
  engine::Options options;
  options.as_of = as_of_day(as_of);
  if (p.uses_today && !options.as_of) throw py::value_error("the rules use `today`: give the evaluation date with as_of");

  std::vector<Column> cols(p.fields.size());
  for (size_t i = 0; i < cols.size(); ++i) {
    py::tuple t = columns[i].cast<py::tuple>();
    Column& c = cols[i];
    int kind = t[0].cast<int>();
    if (kind < 0 || kind > static_cast<int>(ColumnKind::float32)) throw py::value_error(fmt::format("column {}: unknown column kind {}", p.fields[i].column, kind));
    c.kind = static_cast<ColumnKind>(kind);
    if (c.kind == ColumnKind::absent) continue;
    c.array = t[1].cast<py::array>();
    // The engine views each str's own UTF-8 while the GIL is released: an
    // object column is copied first (the copy holds a reference to every
    // value), so another thread that changes the caller's array cannot free
    // a value being read.
    if (c.kind == ColumnKind::objects) c.array = c.array.attr("copy")().cast<py::array>();
    if (c.array.ndim() != 1 || static_cast<size_t>(c.array.shape(0)) != rows) {
      throw py::value_error(fmt::format("column {}: expected {} values", p.fields[i].column, rows));
    }
    char want = c.kind == ColumnKind::objects ? 'O' : c.kind == ColumnKind::float64 || c.kind == ColumnKind::float32 ? 'f'
                : c.kind == ColumnKind::boolean ? 'b' : 'i';
    ssize_t size = c.kind == ColumnKind::float32 ? 4 : c.kind == ColumnKind::boolean ? 1 : 8;
    if (c.array.dtype().kind() != want || (want != 'O' && c.array.itemsize() != size)) {
      throw py::value_error(fmt::format("column {}: the array's type does not match its kind", p.fields[i].column));
    }
    c.data = static_cast<const char*>(c.array.data());
    c.stride = c.array.strides(0);
    if (c.kind == ColumnKind::objects) read_objects(c, rows);
  }

  std::vector<OutputColumn> outs;
  for (const auto& o : p.outputs) {
    OutputColumn oc{o, {}, {}, {}};
    if (coded(o.type)) oc.codes.assign(rows, -1);
    else oc.ids.assign(rows, 0);
    outs.push_back(std::move(oc));
  }
  if (p.key_field >= 0) {
    const eval::Field& kf = p.fields[p.key_field];
    OutputColumn oc{{kf.name, kf.type, p.key_field, false}, {}, {}, {}};
    oc.key = true;
    oc.pass_through = cols[p.key_field].kind == ColumnKind::objects && !kf.type.is_set && kf.type.base == BaseType::text;
    oc.ids.assign(rows, 0);  // an enum or bool key too comes back as its text
    oc.lengths.assign(rows, 0);
    outs.push_back(std::move(oc));
  }
  std::vector<uint8_t> decided(rows, 0);

  engine::BatchOptions batch;
  batch.decide = options;
  batch.threads = threads;
  engine::BatchSplit split = engine::split_batch(rows, batch);
  unsigned n = split.threads;
  std::vector<std::vector<RowRejection>> rejected(n);
  for (auto& oc : outs) {
    if (oc.codes.empty()) oc.interned.resize(n);
    if (oc.key) oc.arena.resize(n);
  }
  // Per thread: the text written for each field, and for each decision.
  std::vector<std::vector<std::string>> bufs(n, std::vector<std::string>(p.fields.size()));
  std::vector<std::string> texts(n);
  engine::BatchCalls calls;
  calls.fill = [&](unsigned k, size_t r, io::RawRecord& raw, engine::Rejection& why) {
    std::string problem;
    for (size_t i = 0; i < cols.size(); ++i) {
      if (column_field(cols[i], r, raw.fields[i], bufs[k][i], problem)) continue;
      why = {p.fields[i].column, std::move(problem)};
      // The key is still shown when its own column is readable.
      if (p.key_field >= 0) {
        auto kf = static_cast<size_t>(p.key_field);
        std::string ignored;
        if (kf == i || (kf > i && !column_field(cols[kf], r, raw.fields[kf], bufs[k][kf], ignored))) raw.fields[kf] = {};
      }
      return false;
    }
    return true;
  };
  calls.rejected = [&](unsigned k, size_t r, engine::RejectedRecord&& rej) {
    rejected[k].push_back({r, std::move(rej.key), std::move(rej.why.column), std::move(rej.why.reason)});
  };
  calls.decided = [&](unsigned k, size_t r, const engine::Decider& decider) {
    decided[r] = 1;
    const eval::Frame& f = decider.frame();
    std::string& text = texts[k];
    for (auto& oc : outs) {
      const eval::Value& v = f.slots[oc.output.slot];
      if (!oc.codes.empty()) {
        oc.codes[r] = eval::is_missing(v) ? -1 : static_cast<int32_t>(v.n);
      } else if (oc.pass_through && cols[p.key_field].is_str[r]) {
        oc.ids[r] = kPassThrough;
      } else if (oc.key) {
        std::string& arena = oc.arena[k];
        size_t at = arena.size();
        if (eval::is_missing(v) || at > UINT32_MAX - 4096) continue;  // no value (or, past 4 GiB, none kept)
        p.append_text(arena, v, oc.output.type);
        oc.ids[r] = static_cast<uint32_t>(at);
        oc.lengths[r] = static_cast<uint32_t>(arena.size() - at) + 1;  // 0: no value
      } else if (!eval::is_missing(v)) {
        text.clear();
        p.append_text(text, v, oc.output.type);
        oc.ids[r] = oc.interned[k].id(text);
      }
    }
  };
  {
    py::gil_scoped_release release;
    engine::decide_batch(rules, rows, batch, calls);
  }

  // Result columns: codes as arrays (the wrapper makes categoricals of
  // them), everything else as Python values, one object per distinct value.
  size_t decided_count = 0;
  for (uint8_t d : decided) decided_count += d;
  py::array_t<uint8_t> decided_mask(static_cast<py::ssize_t>(rows));
  std::memcpy(decided_mask.mutable_data(), decided.data(), rows);
  py::list out_columns;
  for (auto& oc : outs) {
    if (!oc.codes.empty()) {
      py::array_t<int32_t> codes(static_cast<py::ssize_t>(decided_count));
      int32_t* dst = codes.mutable_data();
      for (size_t r = 0; r < rows; ++r) {
        if (decided[r]) *dst++ = oc.codes[r];
      }
      out_columns.append(codes);
      continue;
    }
    py::array values(py::dtype("O"), std::vector<py::ssize_t>{static_cast<py::ssize_t>(decided_count)});
    PyObject** dst = static_cast<PyObject**>(values.mutable_data());
    const Type& t = oc.output.type;
    if (oc.key) {
      bool whole = !t.is_set && t.base == BaseType::int_;
      bool text = !t.is_set && t.base == BaseType::text;
      for (unsigned k = 0; k < n; ++k) {
        for (size_t r = split.begin(k), end = split.begin(k + 1); r < end; ++r) {
          if (!decided[r]) continue;
          py::object v;
          if (oc.ids[r] == kPassThrough) {
            v = py::reinterpret_borrow<py::object>(
                *reinterpret_cast<PyObject* const*>(cols[p.key_field].data + r * cols[p.key_field].stride));
          } else if (oc.lengths[r] == 0) {
            v = py::none();
          } else {
            std::string_view s(oc.arena[k].data() + oc.ids[r], oc.lengths[r] - 1);
            if (whole) {
              std::string digits(s);
              v = py::reinterpret_steal<py::object>(PyLong_FromString(digits.c_str(), nullptr, 10));
              if (!v) throw py::error_already_set();
            } else if (text) {
              v = py::str(s.data(), s.size());
            } else {
              v = py::str(s.data(), s.size());  // an enum, date or bool key: its text
            }
          }
          Py_XDECREF(*dst);
          *dst++ = v.release().ptr();
        }
      }
      out_columns.append(values);
      continue;
    }
    bool number = !t.is_set && (t.base == BaseType::int_ || t.base == BaseType::decimal || t.base == BaseType::money);
    bool date = !t.is_set && t.base == BaseType::date;
    bool whole = oc.key && !t.is_set && t.base == BaseType::int_;  // an int key as int
    // One Python object per distinct text, shared by every thread's rows.
    std::unordered_map<std::string_view, py::object> made;
    std::vector<std::vector<py::object>> objects(n);
    for (unsigned k = 0; k < n; ++k) {
      for (const std::string& text : oc.interned[k].values) {
        auto it = made.find(text);
        if (it == made.end()) {
          py::object v;
          if (whole) {
            v = py::reinterpret_steal<py::object>(PyLong_FromString(text.c_str(), nullptr, 10));
            if (!v) throw py::error_already_set();
          } else if (number) {
            v = python().decimal_type(py::str(text));
          } else if (date) {
            auto day = parse_iso_date(text);
            v = day ? py_date(*day) : py::object(py::str(text));
          } else {
            v = py::str(text);
          }
          it = made.emplace(text, std::move(v)).first;
        }
        objects[k].push_back(it->second);
      }
    }
    for (unsigned k = 0; k < n; ++k) {
      for (size_t r = split.begin(k), end = split.begin(k + 1); r < end; ++r) {
        if (!decided[r]) continue;
        uint32_t id = oc.ids[r];
        PyObject* v = id == kPassThrough
                          ? *reinterpret_cast<PyObject* const*>(cols[p.key_field].data + r * cols[p.key_field].stride)
                          : id ? objects[k][id - 1].ptr() : Py_None;
        Py_INCREF(v);
        Py_XDECREF(*dst);
        *dst++ = v;
      }
    }
    out_columns.append(values);
  }
  py::list rej_rows, rej_keys, rej_columns, rej_reasons;
  for (auto& part : rejected) {
    for (auto& r : part) {
      rej_rows.append(r.row);
      rej_keys.append(py::str(r.key));
      rej_columns.append(py::str(r.column));
      rej_reasons.append(py::str(r.reason));
    }
  }
  return py::make_tuple(decided_mask, out_columns, py::make_tuple(rej_rows, rej_keys, rej_columns, rej_reasons));
}


// The Python object: a shared, immutable rule set.
struct Rules {
  std::shared_ptr<const engine::RuleSet> set;
};

}  // namespace

PYBIND11_MODULE(_stratum, m) {
  m.doc() = "Stratum's engine (use the `stratum` package)";

  py::class_<Rules>(m, "RuleSet")
      .def_static("load", [](const std::string& path, bool analyse) {
            try {
              py::gil_scoped_release release;
              return Rules{engine::RuleSet::load(path, analyse)};
            } catch (const std::runtime_error& e) {
              throw py::value_error(e.what());
            }
          }, py::arg("path"), py::arg("analyse") = true)
      .def_static("from_bundle", [](const std::string& main, const std::vector<std::pair<std::string, py::bytes>>& files, bool analyse) {
            engine::Bundle b;
            b.main = main;
            for (auto& [path, text] : files) b.files.push_back({path, std::string(text)});
            try {
              py::gil_scoped_release release;
              return Rules{engine::RuleSet::from_bundle(b, analyse)};
            } catch (const std::runtime_error& e) {
              throw py::value_error(e.what());
            }
          }, py::arg("main"), py::arg("files"), py::arg("analyse") = true)
      .def_property_readonly("ok", [](const Rules& r) { return r.set->ok(); })
      .def_property_readonly("hash", [](const Rules& r) { return r.set->hash(); })
      .def_property_readonly("path", [](const Rules& r) { return r.set->path(); })
      .def_static("choose", [](const std::string& path, const std::optional<std::string>& as_of, const std::string& ruleset) {
            engine::Selection s;
            s.ruleset = ruleset;
            if (as_of) {
              s.as_of = parse_iso_date(*as_of);
              if (!s.as_of) throw py::value_error(fmt::format("as_of {}: expected a date YYYY-MM-DD", *as_of));
            }
            try {
              return engine::choose_rule_file(path, s);
            } catch (const std::runtime_error& e) {
              // The command line's options are the module's arguments here.
              std::string message = e.what();
              for (auto [cli, python] : {std::pair<std::string, std::string>{"--as-of YYYY-MM-DD", "as_of="}, {"--ruleset NAME", "ruleset="}}) {
                for (size_t at; (at = message.find(cli)) != std::string::npos;) message.replace(at, cli.size(), python);
              }
              throw py::value_error(message);
            }
          }, py::arg("path"), py::arg("as_of"), py::arg("ruleset"))
      .def_property_readonly("version_info", [](const Rules& rules) -> py::object {
        const engine::RuleSet& r = *rules.set;
        if (!r.ok()) return py::none();
        const auto& p = r.program();
        return py::make_tuple(p.ruleset, p.version, p.effective ? py::object(py::str(format_date(*p.effective))) : py::object(py::none()));
      })
      .def("bundle", [](const Rules& rules) { const engine::RuleSet& r = *rules.set;
        py::list files;
        for (const auto& f : r.bundle().files) files.append(py::make_tuple(f.path, py::bytes(f.text)));
        return py::make_tuple(r.bundle().main, files);
      })
      .def("diagnostics_json", [](const Rules& rules) { const engine::RuleSet& r = *rules.set; return r.compilation().render(true); })
      .def("diagnostics_text", [](const Rules& rules) { const engine::RuleSet& r = *rules.set; return r.compilation().render(false); })
      .def_property_readonly("uses_today", [](const Rules& rules) { const engine::RuleSet& r = *rules.set; return r.ok() && r.program().uses_today; })
      .def("fields", [](const Rules& rules) { const engine::RuleSet& r = *rules.set;
        const auto& p = r.program();
        py::list out;
        for (size_t i = 0; i < p.fields.size(); ++i) {
          const auto& f = p.fields[i];
          out.append(py::make_tuple(f.name, f.column, r.compilation().model->type_name(f.type), f.optional, static_cast<int32_t>(i) == p.key_field));
        }
        return out;
      })
      .def("outputs", [](const Rules& rules) { const engine::RuleSet& r = *rules.set;
        const auto& p = r.program();
        py::list out;
        for (const auto& o : p.outputs) {
          py::list members;
          if (!o.type.is_set && o.type.base == BaseType::enum_) {
            for (const auto& name : p.enums[o.type.enum_id].members) members.append(name);
          }
          out.append(py::make_tuple(o.name, r.compilation().model->type_name(o.type), members, o.plan));
        }
        return out;
      })
      .def("key", [](const Rules& rules) -> py::object { const engine::RuleSet& r = *rules.set;
        const auto& p = r.program();
        if (p.key_field < 0) return py::none();
        return py::make_tuple(p.fields[p.key_field].name, p.fields[p.key_field].column);
      })
      .def("decide", [](const Rules& rules, py::handle record, std::optional<std::string> as_of) -> py::object { const engine::RuleSet& r = *rules.set;
        const auto& p = r.program();
        engine::Options options;
        options.as_of = as_of_day(as_of);
        RecordInput in;
        auto problem = from_mapping(p, record, in);
        engine::Decider decider(r, options);
        engine::Rejection why;
        if (problem) return py::make_tuple(false, decider.key_text(in.raw), problem->column, problem->reason);
        if (!decider.decide(in.raw, why)) return py::make_tuple(false, decider.key_text(in.raw), why.column, why.reason);
        return py::make_tuple(true, decided_dict(p, decider.frame(), record));
      }, py::arg("record"), py::arg("as_of") = py::none())
      .def("explain", [](const Rules& rules, py::handle record, std::optional<std::string> as_of, bool nearest,
                         std::vector<std::string> fixed) -> py::dict { const engine::RuleSet& r = *rules.set;
        const auto& p = r.program();
        std::vector<uint8_t> fixed_slots;
        if (nearest) {
          if (!has_counterfactual_targets(p)) {
            throw py::value_error("nearest: the rules have no segment tree and no enum or bool decision: there is nothing to move the customer to");
          }
          try {
            fixed_slots = engine::fixed_fields(p, fixed);
          } catch (const std::invalid_argument& e) {
            throw py::value_error(fmt::format("fixed: {}", e.what()));
          }
        } else if (!fixed.empty()) {
          throw py::value_error("fixed goes with nearest=True");
        }
        engine::Options options;
        options.as_of = as_of_day(as_of);
        options.explain = true;
        RecordInput in;
        auto problem = from_mapping(p, record, in);
        engine::Decider decider(r, options);
        engine::Explanation e;
        if (problem) {
          e.key = decider.key_text(in.raw);
          e.outcome = engine::Explanation::Outcome::rejected_binding;
          e.why = *problem;
        } else {
          e = engine::explain(decider, in.raw);
          if (nearest) engine::add_nearest(decider, e, fixed_slots);
        }
        py::dict out;
        out["key"] = e.key.empty() ? py::object(py::none()) : py::object(py::str(e.key));
        using Outcome = engine::Explanation::Outcome;
        bool ok = e.outcome == Outcome::decided;
        out["decided"] = ok;
        if (ok) {
          out["decisions"] = decided_dict(p, decider.frame(), record);
          out["rejected"] = py::none();
        } else {
          py::dict rej;
          rej["stage"] = e.outcome == Outcome::rejected_binding ? "fields" : e.outcome == Outcome::rejected_decision ? "decision" : "plan";
          rej["column"] = e.why.column;
          rej["reason"] = e.why.reason;
          out["decisions"] = py::none();
          out["rejected"] = rej;
        }
        out["trace"] = e.trace;
        out["plan"] = e.plan;
        if (nearest) {
          py::list moves;
          if (e.nearest) {
            for (const auto& m : e.nearest->moves) {
              py::dict d;
              d["output"] = m.output;
              d["target"] = m.target;
              d["field"] = m.field;
              d["now"] = m.now;
              d["required"] = m.required;
              d["data"] = m.data;
              d["condition"] = m.condition;
              d["rejected"] = m.rejected.empty() ? py::object(py::none()) : py::object(py::str(m.rejected));
              d["text"] = m.text;
              moves.append(d);
            }
          }
          py::dict reach;
          py::list notes;
          if (e.nearest) {
            for (const auto& o : e.nearest->out_of_reach) reach[py::str(o.output)] = o.values;
            for (const auto& n : e.nearest->notes) notes.append(n);
          }
          py::dict n;
          n["counterfactuals"] = moves;
          n["out_of_reach"] = reach;
          n["notes"] = notes;
          n["fixed"] = e.fixed;
          out["nearest"] = n;
        }
        out["text"] = engine::render(e, r, r.path(), as_of.value_or(""));
        return out;
      }, py::arg("record"), py::arg("as_of") = py::none(), py::arg("nearest") = false,
         py::arg("fixed") = std::vector<std::string>{})
      .def("decide_columns", [](const Rules& rules, py::list columns, size_t rows, std::optional<std::string> as_of,
                                unsigned threads) { const engine::RuleSet& r = *rules.set; return decide_columns(r, columns, rows, as_of, threads); },
           py::arg("columns"), py::arg("rows"), py::arg("as_of") = py::none(), py::arg("threads") = 1)
      // `stratum report`'s data over a portfolio file, as JSON text.
      .def("report", [](const Rules& rules, const std::string& input, std::optional<std::string> input_format,
                        const std::string& previous, const std::string& previous_rules, std::optional<std::string> as_of,
                        unsigned threads, size_t sample) {
        report::Options options;
        options.input = input;
        options.input_format = input_format;
        options.previous = previous;
        options.previous_rules = previous_rules;
        if (as_of) {
          options.as_of = parse_iso_date(*as_of);
          if (!options.as_of) throw py::value_error(fmt::format("as_of {}: expected a date YYYY-MM-DD", *as_of));
        }
        options.threads = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
        options.grid_sample = sample;
        std::string text;
        {
          py::gil_scoped_release unlocked;
          text = report::build(*rules.set, options).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        }
        return text;
      }, py::arg("input"), py::arg("input_format") = py::none(), py::arg("previous") = "", py::arg("previous_rules") = "", py::arg("as_of") = py::none(),
         py::arg("threads") = 0, py::arg("sample") = 2000);

  // The report's page for its data (JSON text).
  m.def("render_report", [](const std::string& data) { return report::render_html(nlohmann::ordered_json::parse(data)); });

  m.def("hardware_threads", [] { return std::max(1u, std::thread::hardware_concurrency()); });
  // Rows of text as `stratum eval --format csv` writes them (the same quoting).
  m.def("csv_text", [](const std::vector<std::string>& header, py::list columns) {
    std::string out;
    for (size_t i = 0; i < header.size(); ++i) {
      if (i) out += ',';
      io::append_csv_field(out, header[i]);
    }
    out += '\n';
    std::vector<py::array> arrays;
    size_t rows = 0;
    for (auto c : columns) {
      arrays.push_back(c.cast<py::array>());
      if (arrays.back().dtype().kind() != 'O' || arrays.back().ndim() != 1) throw py::value_error("csv_text takes object arrays");
      rows = static_cast<size_t>(arrays.back().shape(0));
    }
    for (auto& a : arrays) {
      if (static_cast<size_t>(a.shape(0)) != rows) throw py::value_error("csv_text: the columns differ in length");
    }
    for (size_t r = 0; r < rows; ++r) {
      for (size_t i = 0; i < arrays.size(); ++i) {
        if (i) out += ',';
        PyObject* o = *reinterpret_cast<PyObject* const*>(static_cast<const char*>(arrays[i].data()) + r * arrays[i].strides(0));
        if (o == Py_None) continue;
        if (!PyUnicode_Check(o)) throw py::type_error("csv_text takes str values");
        Py_ssize_t size = 0;
        const char* s = PyUnicode_AsUTF8AndSize(o, &size);
        if (!s) throw py::error_already_set();
        io::append_csv_field(out, std::string_view(s, static_cast<size_t>(size)));
      }
      out += '\n';
    }
    return py::bytes(out);
  });
}
