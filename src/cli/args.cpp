#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "cli/cli.hpp"
#include "engine/previous.hpp"
#include "io/decided.hpp"
#include "io/readers.hpp"

namespace stratum::cli {

Args::Args(std::vector<std::string> argv, std::vector<std::string> flags, std::vector<std::string> valued) {
  auto known = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  bool only_positionals = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positionals || a == "-" || !a.starts_with("-")) {
      positionals_.push_back(a);
      continue;
    }
    if (a == "--") { only_positionals = true; continue; }
    std::string name = a, inline_value;
    bool has_inline = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      inline_value = a.substr(eq + 1);
      has_inline = true;
    }
    if (known(flags, name) && !has_inline) {
      flags_set_.push_back(name);
    } else if (known(valued, name)) {
      if (has_inline) {
        values_.push_back({name, inline_value});
      } else if (i + 1 < argv.size()) {
        values_.push_back({name, argv[++i]});
      } else {
        error_ = fmt::format("option {} needs a value", name);
        return;
      }
    } else {
      error_ = fmt::format("unknown option {}", name);
      return;
    }
  }
}

bool Args::flag(const std::string& name) const {
  return std::find(flags_set_.begin(), flags_set_.end(), name) != flags_set_.end();
}

std::optional<std::string> Args::value(const std::string& name) const {
  std::optional<std::string> v;
  for (auto& [n, val] : values_) {
    if (n == name) v = val;
  }
  return v;
}

std::vector<std::string> Args::values(const std::string& name) const {
  std::vector<std::string> out;
  for (auto& [n, val] : values_) {
    if (n == name) out.push_back(val);
  }
  return out;
}

std::optional<std::string> not_rereadable(const std::string& path) {
  namespace fs = std::filesystem;
  if (path == "-") return std::string("standard input");
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st) || fs::is_regular_file(st)) return std::nullopt;
  return fmt::format("{} ({})", path, fs::is_fifo(st) ? "a pipe" : fs::is_directory(st) ? "a folder" : "not a regular file");
}

int usage_error(const std::string& command, const std::string& message) {
  fmt::print(stderr, "stratum {}: {}\nRun `stratum {} --help` for usage.\n", command, message, command);
  return kUsage;
}

std::vector<std::string> rule_files(const std::string& path, std::string& error) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> out;
  if (fs::is_directory(path, ec)) {
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().extension() == ".strat") out.push_back(it->path().string());
    }
    if (ec) {
      error = fmt::format("cannot read directory {}: {}", path, ec.message());
      return {};
    }
    std::sort(out.begin(), out.end());
    if (out.empty()) error = fmt::format("no .strat files under {}", path);
    return out;
  }
  if (!fs::exists(path, ec)) {
    error = fmt::format("{}: no such file or directory", path);
    return {};
  }
  out.push_back(path);
  return out;
}

int previous_run(const Args& args, const std::string& command, const eval::Program& program, const std::string& input,
                 std::shared_ptr<const engine::PreviousRun>& out) {
  if (auto prev = args.value("--previous")) {
    std::optional<io::Format> format;
    if (auto f = args.value("--previous-format")) {
      if (*f == "csv") format = io::Format::csv;
      else if (*f == "jsonl") format = io::Format::jsonl;
      else return usage_error(command, "--previous-format is csv or jsonl");
    } else {
      format = io::format_from_name(*prev);
      if (!format || *format == io::Format::yaml) {
        return usage_error(command, fmt::format("cannot tell the format of {}: add --previous-format csv|jsonl", *prev));
      }
    }
    if (*prev == "-" && input == "-") return usage_error(command, "--input and --previous cannot both be standard input");
    if (program.stabilities.empty()) {
      fmt::print(stderr, "stratum {}: the rules have no stability rule: --previous {} changes nothing\n", command, *prev);
    } else {
      try {
        out = engine::PreviousRun::read(program, *prev, *format);
      } catch (const io::DecidedFileError& e) {
        fmt::print(stderr, "stratum {}: --previous {}\n", command, e.what());
        return kInputProblem;
      } catch (const std::runtime_error& e) {
        fmt::print(stderr, "stratum {}: --previous: {}\n", command, e.what());
        return kUsage;
      }
      for (const auto& w : out->warnings()) fmt::print(stderr, "stratum {}: --previous {}: {}\n", command, *prev, w);
    }
  } else if (args.value("--previous-format")) {
    return usage_error(command, "--previous-format goes with --previous PREV");
  }
  return kOk;
}

}  // namespace stratum::cli
