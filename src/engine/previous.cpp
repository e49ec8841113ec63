#include "engine/previous.hpp"

#include <charconv>
#include <map>

#include <fmt/format.h>

#include "io/decided.hpp"

namespace stratum::engine {

std::string key_of(const eval::Program& program, const eval::Frame& frame) {
  if (program.key_field < 0) return {};
  const eval::Field& f = program.fields[program.key_field];
  const eval::Value& v = frame.slots[program.key_field];
  if (f.type.base == BaseType::text) return std::string(v.s);
  std::string out;
  program.append_text(out, v, f.type);
  return out;
}

std::shared_ptr<const PreviousRun> PreviousRun::read(const eval::Program& program, const std::string& path, io::Format format) {
  if (program.key_field < 0) {
    throw io::DecidedFileError("the rules have no key field: a previous run is joined to this one by key (mark the input's key field `key`)");
  }
  return from(program, io::DecidedFile::read(path, format, program.fields[program.key_field].name));
}

std::shared_ptr<const PreviousRun> PreviousRun::from(const eval::Program& program, const io::DecidedFile& file) {
  return read_columns(program, file, {"", "@candidate", "@periods"});
}

std::shared_ptr<const PreviousRun> PreviousRun::kept(const eval::Program& program, const io::DecidedFile& file) {
  return read_columns(program, file, {"@previous", "@previous_candidate", "@previous_periods"});
}

std::shared_ptr<const PreviousRun> PreviousRun::read_columns(const eval::Program& program, const io::DecidedFile& file,
                                                             const Suffixes& suffix) {
  const std::string& path = file.path();
  auto run = std::make_shared<PreviousRun>();
  run->program_ = &program;
  struct Columns {
    std::optional<size_t> value, candidate, periods;
  };
  std::vector<Columns> columns;
  for (const auto& st : program.stabilities) {
    Columns c{file.column(st.name + suffix.value), file.column(st.name + suffix.candidate), file.column(st.name + suffix.periods)};
    if (!c.value) {
      throw io::DecidedFileError(
          *suffix.value ? fmt::format("{}: no column `{}{}`: it was not decided with `stratum eval --keep-input` by rules with this stability rule",
                                      path, st.name, suffix.value)
                        : fmt::format("{}: no column `{}`: the previous run did not decide it, so nobody can be held at its value", path, st.name));
    }
    columns.push_back(c);
  }
  // Counted problems, reported once each.
  std::map<std::string, uint64_t> problems;
  auto code_of = [&](const eval::Stability& st, const std::optional<std::string>& text, const char* what) -> int32_t {
    if (!text || text->empty()) return -1;
    const auto& members = program.enums[program.derived[st.slot - program.fields.size()].type.enum_id].members;
    for (size_t k = 0; k < members.size(); ++k) {
      if (members[k] == *text) return static_cast<int32_t>(k);
    }
    ++problems[fmt::format("{} `{}` ({}) is not a value of it now: {}", st.name, *text, what,
                           std::string_view(what) == "the value" ? "decided as new" : "the periods in a row start again")];
    return -1;
  };
  run->by_key_.reserve(file.size());
  for (size_t i = 0; i < file.size(); ++i) {
    const auto& row = file.row(i);
    std::vector<eval::Previous> states(program.stabilities.size());
    for (size_t k = 0; k < program.stabilities.size(); ++k) {
      const auto& st = program.stabilities[k];
      eval::Previous& p = states[k];
      p.value = code_of(st, row[*columns[k].value], "the value");
      if (p.value < 0) continue;
      if (columns[k].candidate) p.candidate = code_of(st, row[*columns[k].candidate], "the candidate");
      if (columns[k].periods && row[*columns[k].periods]) {
        const std::string& t = *row[*columns[k].periods];
        int64_t n = 0;
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
        if (ec != std::errc() || end != t.data() + t.size() || n < 0) {
          throw io::DecidedFileError(fmt::format("{}:{}: `{}{}` is {}: expected a number of periods in a row, a whole number from 0 to {}",
                                                 path, file.line(i), st.name, suffix.periods, t, INT64_MAX));
        }
        p.periods = n;
      }
    }
    run->by_key_.emplace(file.key(i), std::move(states));
  }
  for (const auto& [what, n] : problems) {
    run->warnings_.push_back(fmt::format("{} customer{}: {}", n, n == 1 ? "" : "s", what));
  }
  return run;
}

void PreviousRun::fill(eval::Frame& frame) const {
  frame.previous_run = true;
  // A text key is looked up as it lies in the frame; another is formatted as eval writes it.
  const eval::Field& f = program_->fields[program_->key_field];
  auto it = f.type.base == BaseType::text ? by_key_.find(frame.slots[program_->key_field].s) : by_key_.find(key_of(*program_, frame));
  if (it == by_key_.end()) {
    std::fill(frame.previous.begin(), frame.previous.end(), eval::Previous{});
  } else {
    std::copy(it->second.begin(), it->second.end(), frame.previous.begin());
  }
}

}  // namespace stratum::engine
