#include "io/writer.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

#include <fmt/format.h>

#include "diag/diagnostic.hpp"
#include "io/byte_scan.hpp"
#include "value/date.hpp"

namespace stratum::io {

// ---- temporary files removed on a fatal signal ------------------------------
//
// A run stopped by SIGINT/SIGTERM (or a broken pipe) must not leave its
// half-written temporary files behind. The paths live in fixed storage so
// the signal handler can unlink them without allocating.
namespace {

constexpr int kTempSlots = 8;
constexpr size_t kTempPath = 4096;
char g_temp_paths[kTempSlots][kTempPath];
volatile std::sig_atomic_t g_temp_used[kTempSlots];

int register_temp(const std::string& path) {
  if (path.size() >= kTempPath) return -1;
  for (int i = 0; i < kTempSlots; ++i) {
    if (!g_temp_used[i]) {
      std::memcpy(g_temp_paths[i], path.c_str(), path.size() + 1);
      g_temp_used[i] = 1;
      return i;
    }
  }
  return -1;
}

void unregister_temp(int slot) {
  if (slot >= 0) g_temp_used[slot] = 0;
}

extern "C" void remove_temps_and_die(int sig) {
  for (int i = 0; i < kTempSlots; ++i) {
    if (g_temp_used[i]) ::unlink(g_temp_paths[i]);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void install_signal_cleanup() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) {
    struct sigaction sa {};
    sa.sa_handler = remove_temps_and_die;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    ::sigaction(sig, &sa, nullptr);
  }
}

// ---- OutputFile ------------------------------------------------------------

namespace {

std::runtime_error write_error(const std::string& what, int err) {
  return std::runtime_error(fmt::format("cannot write {}: {}", what, std::strerror(err)));
}

}  // namespace

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  if (path_ == "-") {
    file_ = stdout;
    return;
  }
  // Where the bytes go: a regular file (or a symlink to one) is replaced
  // whole by rename, keeping its mode; anything else (a FIFO, a device, a
  // dangling symlink) is written through, as a shell redirection would.
  std::string target = path_;
  struct stat st {};
  bool exists = ::stat(path_.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) throw write_error(path_, errno);
  if (exists && S_ISDIR(st.st_mode)) throw std::runtime_error(fmt::format("cannot write {}: it is a directory", path_));
  struct stat lst {};
  if (::lstat(path_.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode) && exists && S_ISREG(st.st_mode)) {
    if (char* real = ::realpath(path_.c_str(), nullptr)) {
      target = real;
      std::free(real);
    }
  }
  bool through = (exists && !S_ISREG(st.st_mode)) || (!exists && ::lstat(path_.c_str(), &lst) == 0);
  if (through) {
    file_ = std::fopen(path_.c_str(), "wb");
    if (!file_) throw write_error(path_, errno);
    direct_ = true;
    return;
  }
  temp_ = fmt::format("{}.tmp-{}", target, ::getpid());
  target_ = target;
  mode_t mode;
  if (exists) {
    mode = st.st_mode & 07777;
  } else {
    mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw write_error(path_, errno);
  slot_ = register_temp(temp_);
  if (exists && ::geteuid() == 0) (void)::fchown(fd, st.st_uid, st.st_gid);
  if (::fchmod(fd, mode) != 0 || !(file_ = ::fdopen(fd, "wb"))) {
    int err = errno;
    ::close(fd);
    ::unlink(temp_.c_str());
    unregister_temp(slot_);
    throw write_error(path_, err);
  }
}

OutputFile::~OutputFile() {
  if (path_ == "-") {
    if (!committed_) { try { flush(); } catch (...) {} }
    return;
  }
  if (!committed_ && file_) {
    std::fclose(file_);
    if (!direct_) {
      std::remove(temp_.c_str());
      unregister_temp(slot_);
    }
  }
}

void OutputFile::flush() {
  if (buffer_.empty()) return;
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    buffer_.clear();  // not tried again (part of it may be written)
    fail_write();
  }
  size_t written = buffer_.size();
  buffer_.clear();
  start_writeback(written);
}

// A write that failed: said once, here (standard output's error is cleared,
// so that nothing says it again when the process ends).
void OutputFile::fail_write() {
  int err = errno ? errno : EIO;
  if (path_ == "-") {
    std::clearerr(stdout);
    throw write_error("standard output", err);
  }
  throw write_error(path_, err);
}

void OutputFile::write_through(std::string_view s) {
  flush();
  if (std::fwrite(s.data(), 1, s.size(), file_) != s.size()) fail_write();
  start_writeback(s.size());
}

// A file that commit() syncs: its bytes start on their way to the disk as
// they are written (every 16 MiB), so that the sync at the end waits for the
// last ones only, not for the whole file.
void OutputFile::start_writeback(size_t bytes) {
  if (temp_.empty()) return;
  unsynced_ += bytes;
  if (unsynced_ < (16u << 20)) return;
  if (std::fflush(file_) != 0) throw write_error(path_, errno);
#ifdef SYNC_FILE_RANGE_WRITE
  (void)::sync_file_range(::fileno(file_), static_cast<off_t>(synced_), static_cast<off_t>(unsynced_), SYNC_FILE_RANGE_WRITE);
#endif
  synced_ += unsynced_;
  unsynced_ = 0;
}

void OutputFile::commit() {
  flush();
  committed_ = true;
  if (path_ == "-") {
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) fail_write();  // reported here, once
    return;
  }
  int err = 0;
  if (std::fflush(file_) != 0 || std::ferror(file_)) err = errno ? errno : EIO;
  // A regular file is on disk before it replaces the old one.
  if (!err && !direct_ && ::fsync(::fileno(file_)) != 0) err = errno;
  if (std::fclose(file_) != 0 && !err) err = errno;
  file_ = nullptr;
  if (direct_) {
    if (err) throw write_error(path_, err);
    return;
  }
  if (!err && std::rename(temp_.c_str(), target_.c_str()) != 0) err = errno;
  if (err) std::remove(temp_.c_str());
  unregister_temp(slot_);
  if (err) throw write_error(path_, err);
}

void append_csv_field(std::string& b, std::string_view s) {
  // Whether a byte needs quoting: 16 bytes at a time, then one by one.
  bool plain = true;
  size_t i = 0;
  for (; i + 16 <= s.size() && plain; i += 16) plain = match16<false, ',', '"', '\r', '\n'>(s.data() + i) == 0;
  static constexpr auto kQuoted = [] {
    std::array<bool, 256> t{};
    t[','] = t['"'] = t['\r'] = t['\n'] = true;
    return t;
  }();
  for (; i < s.size() && plain; ++i) plain = !kQuoted[static_cast<unsigned char>(s[i])];
  if (plain) {
    b.append(s);
    return;
  }
  b += '"';
  for (char c : s) {
    if (c == '"') b += '"';
    b += c;
  }
  b += '"';
}

RecordWriter::RecordWriter(const eval::Program& program, OutputFormat format, std::string& buffer)
    : program_(program), format_(format), buf_(&buffer) {
  for (const auto& o : program_.outputs) json_names_.push_back("\"" + json_escape(o.name) + "\":");
  if (program_.key_field >= 0) json_key_ = "{\"" + json_escape(program_.fields[program_.key_field].name) + "\":\"";
  for (const auto& f : program_.fields) json_inputs_.push_back(",\"" + json_escape(f.column) + "\":");
}

void RecordWriter::set_provenance(const Provenance& p) {
  std::string as_of = p.as_of ? format_date(*p.as_of) : std::string();
  std::string& b = provenance_;
  b.clear();
  if (format_ == OutputFormat::jsonl) {
    for (auto [name, value] : {std::pair<const char*, const std::string*>{"@ruleset", &p.ruleset}, {"@version", &p.version}, {"@hash", &p.hash}}) {
      b += fmt::format(",\"{}\":\"", name);
      append_json_escaped(b, *value);
      b += '"';
    }
    b += p.as_of ? fmt::format(",\"@as_of\":\"{}\"", as_of) : std::string(",\"@as_of\":null");
  } else {
    for (const std::string* value : {&p.ruleset, &p.version, &p.hash, static_cast<const std::string*>(&as_of)}) {
      b += ',';
      append_csv_field(b, *value);
    }
  }
}

void RecordWriter::input_value(std::string& b, size_t field, const eval::Value& v) {
  const eval::Field& f = program_.fields[field];
  bool json = format_ == OutputFormat::jsonl;
  if (eval::is_missing(v)) {
    if (json) b += "null";
    return;
  }
  // A field read `in 万` or `in %` is written with its unit, so that it reads back as it was.
  if (!f.type.is_set && f.data_scale != 0 && (f.type.base == BaseType::money || f.type.base == BaseType::decimal)) {
    std::string text;
    if (f.data_scale == -2) {
      text = (Decimal::from_raw(v.n) * Decimal::from_int(100)).to_string() + "%";
    } else {
      text = Decimal::from_raw(v.n).to_string() + "元";
    }
    if (json) b += '"';
    b += text;
    if (json) b += '"';
    return;
  }
  // A set in JSON Lines: an array, so that a member holding `;` stays one member.
  if (json && f.type.is_set) {
    b += '[';
    bool first = true;
    auto item = [&](std::string_view s) {
      if (!first) b += ',';
      first = false;
      b += '"';
      append_json_escaped(b, s);
      b += '"';
    };
    if (f.type.base == BaseType::enum_ && !f.type.is_list) {
      const auto& members = program_.enums[f.type.enum_id].members;
      for (size_t i = 0; i < members.size(); ++i) {
        if (v.n & (static_cast<int128>(1) << i)) item(members[i]);
      }
    } else {
      std::string_view s = v.s;
      while (!s.empty()) {
        size_t end = s.find(eval::kSetSeparator);
        item(s.substr(0, end));
        if (end == std::string_view::npos) break;
        s.remove_prefix(end + 1);
      }
    }
    b += ']';
    return;
  }
  value(b, v, f.type);
}

void RecordWriter::header() {
  if (format_ != OutputFormat::csv) return;
  std::string& b = *buf_;
  bool first = true;
  if (program_.key_field >= 0) {
    append_csv_field(b, program_.fields[program_.key_field].name);
    first = false;
  } else {
    b += "record";
    first = false;
  }
  for (const auto& o : program_.outputs) {
    if (!first) b += ',';
    append_csv_field(b, o.name);
    first = false;
  }
  if (keep_input_) {
    for (size_t i = 0; i < program_.fields.size(); ++i) {
      if (static_cast<int32_t>(i) == program_.key_field) continue;
      b += ',';
      append_csv_field(b, program_.fields[i].column);
    }
    for (const auto& st : program_.stabilities) {
      for (const char* part : {"@previous", "@previous_candidate", "@previous_periods"}) {
        b += ',';
        append_csv_field(b, st.name + part);
      }
    }
  }
  if (!provenance_.empty()) b += ",@ruleset,@version,@hash,@as_of";
  if (explain_) b += ",explain";
  b += '\n';
}

void RecordWriter::value(std::string& b, const eval::Value& v, const Type& t) {
  bool json = format_ == OutputFormat::jsonl;
  if (!t.is_set && (t.base == BaseType::int_ || t.base == BaseType::decimal || t.base == BaseType::money ||
                    t.base == BaseType::boolean)) {
    program_.append_text(b, v, t);
    return;
  }
  if (!t.is_set && t.base == BaseType::enum_) {
    // Enum names are the rule author's identifiers: nothing to escape or quote.
    if (json) b += '"';
    program_.append_text(b, v, t);
    if (json) b += '"';
    return;
  }
  // Text is written straight from the value; dates, durations and sets are
  // formatted first.
  std::string formatted;
  std::string_view text = v.s;
  if (t.is_set || t.base != BaseType::text) {
    formatted = program_.format(v, t);
    text = formatted;
  }
  if (json) {
    b += '"';
    append_json_escaped(b, text);
    b += '"';
  } else {
    append_csv_field(b, text);
  }
}

void RecordWriter::record(const eval::Frame& frame, uint64_t record_number, const std::vector<std::string>* explanation) {
  std::string& b = *buf_;
  bool json = format_ == OutputFormat::jsonl;
  if (json && program_.key_field < 0) b += '{';
  if (program_.key_field >= 0) {
    const auto& f = program_.fields[program_.key_field];
    if (json) {
      // The key is copied as text, whatever its type.
      const eval::Value& k = frame.slots[program_.key_field];
      b += json_key_;  // `{"id":"`
      if (f.type.base == BaseType::text) append_json_escaped(b, k.s);
      else program_.append_text(b, k, f.type);
      b += '"';
    } else {
      const eval::Value& k = frame.slots[program_.key_field];
      if (f.type.base == BaseType::text) append_csv_field(b, k.s);
      else program_.append_text(b, k, f.type);
    }
  } else {
    if (json) b += fmt::format("\"record\":{}", record_number);
    else b += std::to_string(record_number);
  }
  bool in_plan = false;
  for (const auto& o : program_.outputs) {
    if (json) {
      if (o.plan && !in_plan) {
        b += ",\"plan\":{";
        in_plan = true;
      } else {
        b += ',';
      }
      b += json_names_[&o - program_.outputs.data()];
    } else {
      b += ',';
    }
    const eval::Value& v = frame.slots[o.slot];
    if (eval::is_missing(v)) {
      if (json) b += "null";
    } else {
      value(b, v, o.type);
    }
  }
  if (in_plan) b += '}';
  if (keep_input_) {
    for (size_t i = 0; i < program_.fields.size(); ++i) {
      if (static_cast<int32_t>(i) == program_.key_field) continue;
      b += json ? json_inputs_[i] : std::string(",");
      input_value(b, i, frame.slots[i]);
    }
    // What a stability rule read of the previous period: replay needs it too.
    for (size_t k = 0; k < program_.stabilities.size(); ++k) {
      const eval::Stability& st = program_.stabilities[k];
      eval::Previous p = k < frame.previous.size() ? frame.previous[k] : eval::Previous{};
      const auto& members = program_.enums[program_.derived[st.slot - program_.fields.size()].type.enum_id].members;
      auto name = [&](int32_t code) -> std::string_view {
        return code >= 0 && static_cast<size_t>(code) < members.size() ? std::string_view(members[code]) : std::string_view();
      };
      std::string_view texts[2] = {name(p.value), name(p.value >= 0 ? p.candidate : -1)};
      for (int part = 0; part < 2; ++part) {
        if (json) {
          b += ",\"";
          append_json_escaped(b, st.name);
          b += part == 0 ? "@previous\":" : "@previous_candidate\":";
          if (texts[part].empty()) {
            b += "null";
          } else {
            b += '"';
            append_json_escaped(b, texts[part]);
            b += '"';
          }
        } else {
          b += ',';
          append_csv_field(b, texts[part]);
        }
      }
      if (json) {
        b += ",\"";
        append_json_escaped(b, st.name);
        b += "@previous_periods\":";
      } else {
        b += ',';
      }
      b += std::to_string(p.value >= 0 ? p.periods : 0);
    }
  }
  b += provenance_;
  if (explain_) {
    if (json) {
      b += ",\"explain\":[";
      for (size_t i = 0; explanation && i < explanation->size(); ++i) {
        if (i) b += ',';
        b += '"';
        append_json_escaped(b, (*explanation)[i]);
        b += '"';
      }
      b += ']';
    } else {
      std::string joined;
      for (size_t i = 0; explanation && i < explanation->size(); ++i) {
        std::string_view line = (*explanation)[i];
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        joined += (i ? " | " : "");
        joined += line;
      }
      b += ',';
      append_csv_field(b, joined);
    }
  }
  b += json ? "}\n" : "\n";
}

std::string rejection_json(uint64_t record, uint64_t line, const std::string& key, const Rejection& why) {
  std::string out = fmt::format("{{\"record\":{}", record);
  if (line) out += fmt::format(",\"line\":{}", line);
  out += key.empty() ? ",\"key\":null" : fmt::format(",\"key\":\"{}\"", json_escape(key));
  out += why.column.empty() ? ",\"column\":null" : fmt::format(",\"column\":\"{}\"", json_escape(why.column));
  if (!why.at.empty()) out += fmt::format(",\"at\":\"{}\"", json_escape(why.at));
  out += fmt::format(",\"reason\":\"{}\"}}\n", json_escape(why.reason));
  return out;
}

}  // namespace stratum::io
