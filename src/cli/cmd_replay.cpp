// stratum replay DECIDED --rules DIR — the audit of an earlier run: every
// record of a decided file (written by `stratum eval --keep-input`) is decided
// again with the exact rules its @hash names, found among the rule files of
// DIR, on its @as_of date, and any record whose results differ is reported.
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "engine/capacity.hpp"
#include "engine/decider.hpp"
#include "engine/previous.hpp"
#include "engine/stream.hpp"
#include "engine/versions.hpp"
#include "io/bind.hpp"
#include "io/decided.hpp"
#include "io/readers.hpp"
#include "io/writer.hpp"
#include "value/date.hpp"

namespace stratum::cli {

namespace {

constexpr const char* kHelp = R"(usage: stratum replay DECIDED --rules DIR [options]

The audit of an earlier run. DECIDED is a file `stratum eval --keep-input`
wrote (JSON Lines or CSV): each record carries its input fields, its results
and the rules that decided it (@ruleset, @version, @hash, @as_of). Every
record is decided again with the rule file of DIR (searched with its
sub-folders) whose content hash is the record's @hash, on its @as_of date,
and compared with what was recorded: decisions, plan items, capacity moves
and, when recorded, explanations. Stability rules read the previous period as
the record kept it (NAME@previous, NAME@previous_candidate,
NAME@previous_periods).

  --rules DIR           where the rule files are kept (a folder, or one file)
  --input-format F      jsonl or csv, when the name of DECIDED does not tell
  --show N              differing records listed (default 20; all are counted)
  --max-record-bytes N  the longest record read (default 8388608, 8 MiB), as eval
  --max-field-bytes N   the longest value read (default 1048576, 1 MiB), as eval

Exit status: 0 every record decided as recorded; 1 some records differ;
2 usage or I/O error, or a record's rules are not in DIR (no rule file has its
hash: the rules were removed, or edited without a new version — then, when a
file declares the same rule set and version, the records are also decided with
it and the differences shown).
)";

const std::vector<std::string> kMeta = {"@ruleset", "@version", "@hash", "@as_of"};

// The fields of one CSV record (RFC 4180 quoting).
std::vector<std::string> csv_fields(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::string_view chomp(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// A record's fields by name, values as text (JSON values as JSON; a plan's items as `plan.X`).
Fields fields_of(std::string_view record, io::Format format, const std::vector<std::string>& header) {
  Fields out;
  if (format == io::Format::csv) {
    auto values = csv_fields(chomp(record));
    for (size_t i = 0; i < values.size() && i < header.size(); ++i) out.emplace_back(header[i], values[i]);
    return out;
  }
  auto j = nlohmann::json::parse(chomp(record), nullptr, false);
  if (!j.is_object()) return out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "plan" && it->is_object()) {
      for (auto p = it->begin(); p != it->end(); ++p) out.emplace_back("plan." + p.key(), p->dump());
    } else {
      out.emplace_back(it.key(), it->dump());
    }
  }
  return out;
}

struct Group {
  std::string hash, as_of;
  uint64_t records = 0;
  uint64_t first = 0;  // record number of the first
  std::string ruleset, version;
};

}  // namespace

int replay(const std::vector<std::string>& argv) {
  Args args(argv, {"--help", "-h"}, {"--rules", "--input-format", "--show", "--max-record-bytes", "--max-field-bytes"});
  if (args.flag("--help") || args.flag("-h")) { fmt::print("{}", kHelp); return kOk; }
  if (args.error()) return usage_error("replay", *args.error());
  if (args.positionals().size() != 1) return usage_error("replay", "name one decided file: stratum replay DECIDED --rules DIR");
  auto dir = args.value("--rules");
  if (!dir) return usage_error("replay", "--rules DIR is required: where the rule files are kept");
  const std::string decided = args.positionals()[0];
  io::Format format;
  if (auto f = args.value("--input-format")) {
    if (*f == "csv") format = io::Format::csv;
    else if (*f == "jsonl") format = io::Format::jsonl;
    else return usage_error("replay", "--input-format is jsonl or csv (what `stratum eval` writes)");
  } else {
    auto guessed = io::format_from_name(decided);
    if (!guessed || *guessed == io::Format::yaml) {
      return usage_error("replay", fmt::format("cannot tell the format of {}: add --input-format jsonl|csv", decided));
    }
    format = *guessed;
  }
  size_t show = 20;
  if (auto n = args.value("--show")) {
    if (n->empty() || n->size() > 6 || n->find_first_not_of("0123456789") != std::string::npos) {
      return usage_error("replay", "--show takes a whole number from 0 to 999999");
    }
    show = std::stoul(*n);
  }
  io::RecordLimits limits;
  for (auto [flag, target] : {std::pair{"--max-record-bytes", &limits.max_record}, std::pair{"--max-field-bytes", &limits.max_field}}) {
    if (auto v = args.value(flag)) {
      if (v->empty() || v->size() > 12 || v->find_first_not_of("0123456789") != std::string::npos || std::stoull(*v) == 0) {
        return usage_error("replay", fmt::format("{} takes a whole number of bytes from 1 to 999999999999", flag));
      }
      *target = static_cast<size_t>(std::stoull(*v));
    }
  }
  if (auto once = not_rereadable(decided)) {
    return usage_error("replay", fmt::format("replay reads the decided file more than once: give a file, not {}", *once));
  }
  std::string error;
  auto files = rule_files(*dir, error);
  if (!error.empty()) return usage_error("replay", error);

  try {
    // Pass one: which rules and dates the records name.
    std::vector<Group> groups;
    std::map<std::pair<std::string, std::string>, size_t> group_of;
    {
      auto reader = io::open_reader(decided, format);
      reader->set_limits(limits);
      if (auto problem = reader->open(kMeta, std::vector<bool>(kMeta.size(), true))) {
        std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {}: {}: it was not written by `stratum eval` with provenance (@ruleset, @version, @hash, @as_of)\n",
                   decided, *problem);
        return kUsage;
      }
      io::RawRecord raw;
      while (reader->next(raw)) {
        if (!raw.error.empty()) {
          std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {}: record {}{}: {}\n", decided, raw.number,
                     raw.line ? fmt::format(" (line {})", raw.line) : "", raw.error);
          return kUsage;
        }
        if (raw.fields[2].kind == io::RawKind::absent || raw.fields[2].kind == io::RawKind::null) {
          std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {}: record {}{} has no @hash: it was not written by `stratum eval` with provenance\n",
                     decided, raw.number, raw.line ? fmt::format(" (line {})", raw.line) : "");
          return kUsage;
        }
        std::pair<std::string, std::string> id{std::string(raw.fields[2].text), std::string(raw.fields[3].text)};
        auto [it, fresh] = group_of.try_emplace(id, groups.size());
        if (fresh) {
          groups.push_back({id.first, id.second, 0, raw.number, std::string(raw.fields[0].text), std::string(raw.fields[1].text)});
        }
        ++groups[it->second].records;
      }
    }
    if (groups.empty()) {
      fmt::print("{}: no records to replay\n", decided);
      return kOk;
    }

    // The rule files of DIR by content hash.
    std::map<std::string, std::shared_ptr<const engine::RuleSet>> by_hash;
    std::vector<std::shared_ptr<const engine::RuleSet>> all;
    for (const auto& f : files) {
      auto rules = engine::RuleSet::load(f, false);
      if (!rules->ok()) continue;
      by_hash.try_emplace(rules->hash(), rules);
      all.push_back(rules);
    }

    int status = kOk;
    uint64_t total = 0, differ = 0, shown = 0;
    for (const Group& g : groups) {
      std::shared_ptr<const engine::RuleSet> rules;
      bool edited = false;
      if (auto it = by_hash.find(g.hash); it != by_hash.end()) {
        rules = it->second;
      } else {
        // Not there: a file of the same rule set and version was edited after the run.
        for (const auto& r : all) {
          if (r->program().ruleset == g.ruleset && r->program().version == g.version) {
            rules = r;
            break;
          }
        }
        std::string what = fmt::format("{} record{} (from record {}) were decided by {} with hash {}", g.records,
                                       g.records == 1 ? "" : "s", g.first, engine::describe(g.ruleset, g.version, std::nullopt), g.hash);
        if (!rules) {
          std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {}: no rule file under {} has that hash, nor declares that rule set and version\n", what, *dir);
          status = kUsage;
          continue;
        }
        fmt::print(stderr,
                   "stratum replay: {}: no rule file under {} has that hash; {} declares the same rule set and version "
                   "but its content differs (hash {}): it was edited without a new version. Decided again with it:\n",
                   what, *dir, rules->path(), rules->hash());
        edited = true;
        status = kUsage;
      }
      const eval::Program& program = rules->program();
      std::optional<int32_t> as_of;
      if (!g.as_of.empty()) {
        as_of = parse_iso_date(g.as_of);
        if (!as_of) {
          std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {}: record {}: @as_of {} is not a date YYYY-MM-DD\n", decided, g.first, g.as_of);
          return kUsage;
        }
      } else if (program.uses_today) {
        std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {}: record {}: the rules use `today` and the record has no @as_of\n", decided, g.first);
        return kUsage;
      }

      // Rules not in force on the records' date cannot have decided them.
      if (as_of && program.effective && *as_of < *program.effective) {
        fmt::print("{} record{} decided by {} (hash {}) on {}: {} takes effect on {}, after that date: eval would not have "
                   "used it then; all differ\n",
                   g.records, g.records == 1 ? "" : "s", engine::describe(g.ruleset, g.version, std::nullopt), g.hash.substr(0, 12),
                   g.as_of, rules->path(), format_date(*program.effective));
        total += g.records;
        differ += g.records;
        if (status == kOk) status = kInputProblem;
        continue;
      }
      // The file's own header: its column names (CSV), whether explanations were recorded.
      io::Binder binder(program);
      std::vector<std::string> columns = binder.columns();
      std::vector<bool> required(columns.size(), true);
      for (const auto& m : kMeta) {
        columns.push_back(m);
        required.push_back(true);
      }
      std::vector<std::string> header;
      bool explained = false;
      {
        auto probe = io::open_reader(decided, format);
        std::vector<std::string> wanted = {"explain"};
        explained = !probe->open(wanted, {false}).has_value();
        io::RawRecord first;
        explained = explained && probe->next(first) && first.error.empty() && first.fields[0].kind != io::RawKind::absent;
        if (format == io::Format::csv) {
          std::string text = io::read_file(decided);
          size_t start = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
          size_t end = text.find('\n', start);
          header = csv_fields(chomp(std::string_view(text).substr(start, end == std::string::npos ? std::string::npos : end - start)));
          std::set<std::string> names;
          for (const auto& h : header) {
            if (!names.insert(h).second) {
              std::fflush(stdout);
              fmt::print(stderr, "stratum replay: {}:1: the header names `{}` twice: not a file `stratum eval` wrote\n", decided, h);
              return kUsage;
            }
          }
        }
      }
      auto reader = io::open_reader(decided, format);
      reader->set_limits(limits);
      if (auto problem = reader->open(columns, required)) {
        std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {}: {}: the records do not carry the input fields of {} (decide with `stratum eval --keep-input` to keep what replay needs)\n",
                   decided, *problem, rules->path());
        return kUsage;
      }
      engine::StreamOptions options;
      options.decide.as_of = as_of;
      options.decide.explain = explained;
      options.decide.max_field = limits.max_field;
      options.format = format == io::Format::csv ? io::OutputFormat::csv : io::OutputFormat::jsonl;
      options.keep_input = true;
      options.provenance = io::Provenance{program.ruleset, program.version, g.hash, as_of};
      options.threads = std::max(1u, std::thread::hardware_concurrency());
      // Stability rules: each record kept what it read of its previous period.
      if (!program.stabilities.empty()) {
        if (program.key_field < 0) {
          std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {} has stability rules but no key field\n", rules->path());
          return kUsage;
        }
        try {
          options.decide.previous =
              engine::PreviousRun::kept(program, io::DecidedFile::read(decided, format, program.fields[program.key_field].name, limits));
        } catch (const std::runtime_error& e) {
          std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {}\n", e.what());
          return kUsage;
        }
      }
      // Capacity limits rank the whole file, as `eval` ranked its whole input.
      std::optional<engine::CapacityPlan> capacity;
      if (!program.capacities.empty()) {
        auto first = io::open_reader(decided, format);
        first->set_limits(limits);
        first->open(binder.columns(), std::vector<bool>(binder.columns().size(), true));
        capacity = engine::CapacityPlan::make(*rules, *first, options);
      }
      engine::Decider decider(*rules, options.decide);
      std::string fresh;
      io::RecordWriter writer(program, options.format, fresh);
      engine::configure(writer, options);
      std::vector<std::string> fresh_header;
      if (format == io::Format::csv) {
        writer.header();
        fresh_header = csv_fields(chomp(fresh));
      }
      uint64_t replayed = 0, group_differ = 0;
      io::RawRecord raw;
      while (reader->next(raw)) {
        size_t n = binder.columns().size();
        if (raw.error.empty() && (raw.fields[n + 2].text != g.hash || raw.fields[n + 3].text != g.as_of)) continue;
        ++replayed;
        engine::Rejection why;
        bool ok = decider.decide(raw, why);
        if (ok && capacity) ok = capacity->apply(decider, raw.number, why);
        std::string key = decider.key_text(raw);
        std::string where = fmt::format("record {}{}{}", raw.number, raw.line ? fmt::format(" (line {})", raw.line) : "",
                                        key.empty() ? "" : ", key " + key);
        if (!ok) {
          ++group_differ;
          if (shown++ < show) {
            fmt::print("{}: recorded as decided, now rejected: {}{}\n", where, why.column.empty() ? "" : why.column + ": ", why.reason);
          }
          continue;
        }
        fresh.clear();
        writer.record(decider.frame(), raw.number, explained ? &decider.explanation() : nullptr);
        if (chomp(fresh) == chomp(raw.source)) continue;
        // Not byte for byte: compare field by field (the columns may have been reordered).
        Fields now = fields_of(fresh, format, fresh_header);
        Fields then = fields_of(raw.source, format, header);
        std::map<std::string, std::string> recorded(then.begin(), then.end());
        std::set<std::string> written;
        std::vector<std::string> changes;
        for (const auto& [name, value] : now) {
          written.insert(name);
          auto it = recorded.find(name);
          if (it == recorded.end()) changes.push_back(fmt::format("{}: not recorded, now {}", name, value));
          else if (it->second == value) continue;
          else if (name == "explain") changes.push_back("explain: the explanation differs");
          else changes.push_back(fmt::format("{}: recorded {}, now {}", name, it->second, value));
        }
        for (const auto& [name, value] : then) {
          if (!written.count(name)) changes.push_back(fmt::format("{}: recorded {}, which eval does not write", name, value));
        }
        // JSON Lines as eval writes them has one text per record: any other (a field twice,
        // re-encoded) is an alteration. A CSV's columns may have been reordered.
        if (changes.empty() && format == io::Format::jsonl) {
          changes.push_back("the record's text is not what eval writes (a field given twice, or re-encoded)");
        }
        if (changes.empty()) continue;
        ++group_differ;
        if (shown++ < show) {
          fmt::print("{}:\n", where);
          for (const auto& c : changes) fmt::print("  {}\n", c);
        }
      }
      total += replayed;
      differ += group_differ;
      fmt::print("{} record{} decided by {} (hash {}){} replayed with {}{}: {} differ\n", replayed, replayed == 1 ? "" : "s",
                 engine::describe(g.ruleset, g.version, std::nullopt), g.hash.substr(0, 12),
                 g.as_of.empty() ? "" : " on " + g.as_of, rules->path(), edited ? " (edited since)" : "", group_differ);
      if (group_differ && status == kOk) status = kInputProblem;
    }
    if (shown > show) fmt::print("({} more differing record{} not listed: --show N)\n", shown - show, shown - show == 1 ? "" : "s");
    uint64_t records = 0;
    for (const Group& g : groups) records += g.records;
    if (groups.size() > 1 || total < records) {
      fmt::print("{} records replayed, {} differ{}\n", total, differ,
                 total < records ? fmt::format("; {} not replayed (their rules are not under {})", records - total, *dir) : "");
    }
    return status;
  } catch (const std::runtime_error& e) {
    std::fflush(stdout);
          fmt::print(stderr, "stratum replay: {}\n", e.what());
    return kUsage;
  }
}

}  // namespace stratum::cli
