#include "cli/migration.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "io/writer.hpp"
#include "source/source_file.hpp"

namespace stratum::cli {

using json = nlohmann::ordered_json;

void Migration::add(const std::string& from, const std::string& to, std::string_view key) {
  for (const std::string* v : {&from, &to}) {
    bool special = *v == kNone || *v == kRejected || *v == kNew || *v == kGone;
    if (!special && std::find(declared_.begin(), declared_.end(), *v) == declared_.end() &&
        std::find(met_.begin(), met_.end(), *v) == met_.end()) {
      met_.push_back(*v);
    }
  }
  Cell& c = cells_[{from, to}];
  ++c.customers;
  if (from != to && c.keys.size() < samples_ && !key.empty()) c.keys.emplace_back(key);
  ++rows_[from];
  ++columns_[to];
  ++total_;
}

std::vector<std::string> Migration::axis() const {
  std::vector<std::string> out;
  auto keep = [&](const std::string& v) {
    if (rows_.count(v) || columns_.count(v)) out.push_back(v);
  };
  for (const auto& v : declared_) keep(v);
  for (const auto& v : met_) keep(v);
  for (auto v : {kNone, kRejected, kNew, kGone}) keep(std::string(v));
  return out;
}

uint64_t Migration::customers(const std::string& from, const std::string& to) const {
  auto it = cells_.find({from, to});
  return it == cells_.end() ? 0 : it->second.customers;
}

uint64_t Migration::row_total(const std::string& from) const {
  auto it = rows_.find(from);
  return it == rows_.end() ? 0 : it->second;
}

uint64_t Migration::column_total(const std::string& to) const {
  auto it = columns_.find(to);
  return it == columns_.end() ? 0 : it->second;
}

uint64_t Migration::changed() const {
  uint64_t n = 0;
  for (const auto& [k, c] : cells_) {
    if (k.first != k.second) n += c.customers;
  }
  return n;
}

std::vector<std::pair<std::pair<std::string, std::string>, const Migration::Cell*>> Migration::changes() const {
  std::vector<std::string> order = axis();
  auto rank = [&](const std::string& v) { return std::find(order.begin(), order.end(), v) - order.begin(); };
  std::vector<std::pair<std::pair<std::string, std::string>, const Cell*>> out;
  for (const auto& [k, c] : cells_) {
    if (k.first != k.second) out.push_back({k, &c});
  }
  std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    if (a.second->customers != b.second->customers) return a.second->customers > b.second->customers;
    auto ra = std::make_pair(rank(a.first.first), rank(a.first.second));
    auto rb = std::make_pair(rank(b.first.first), rank(b.first.second));
    return ra < rb;
  });
  return out;
}

std::string percent(uint64_t numerator, uint64_t denominator) {
  if (denominator == 0) return "0.0";
  uint64_t permille = (numerator * 1000 + denominator / 2) / denominator;
  return fmt::format("{}.{}", permille / 10, permille % 10);
}

namespace {

// A table of text cells: the first column left-aligned, the others right-
// aligned, widths in terminal cells (Chinese characters take two).
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    if (width.size() < r.size()) width.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], utf8::cell_width(r[i]));
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      std::string pad(width[i] - utf8::cell_width(r[i]), ' ');
      if (i == 0) line += r[i] + pad;
      else line += "  " + pad + r[i];
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

// The matrix's labels: segment paths by their leaf alone when no two
// leaves share a name (the change list above shows the whole paths).
std::vector<std::string> labels(const std::vector<std::string>& axis) {
  std::vector<std::string> out;
  for (const auto& v : axis) {
    size_t slash = v.rfind('/');
    out.push_back(slash == std::string::npos || slash + 1 == v.size() ? v : v.substr(slash + 1));
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::count(out.begin(), out.end(), out[i]) > 1) return axis;
  }
  return out;
}

// One of the matrix's three views: counts, shares of all, shares of the row.
enum class View { customers, share, row_share };

std::string matrix(const Migration& m, View view) {
  // (new) is only ever a row, (gone) only a column.
  std::vector<std::string> all = m.axis(), axis, to_axis;
  for (const auto& v : all) {
    if (v != kGone) axis.push_back(v);
    if (v != kNew) to_axis.push_back(v);
  }
  std::vector<std::string> label = labels(all);
  auto label_of = [&](const std::string& v) { return label[std::find(all.begin(), all.end(), v) - all.begin()]; };
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head{"old \\ new"};
  for (const auto& v : to_axis) head.push_back(label_of(v));
  head.push_back(view == View::row_share ? "customers" : "total");
  rows.push_back(head);
  auto cell = [&](uint64_t n, uint64_t of) {
    if (view == View::customers) return n ? std::to_string(n) : std::string("-");
    return n ? percent(n, of) : std::string("-");
  };
  for (size_t i = 0; i < axis.size(); ++i) {
    const std::string& from = axis[i];
    uint64_t row_total = m.row_total(from);
    std::vector<std::string> r{label_of(from)};
    for (const auto& to : to_axis) r.push_back(cell(m.customers(from, to), view == View::row_share ? row_total : m.total()));
    if (view == View::share) r.push_back(cell(row_total, m.total()));
    else r.push_back(row_total ? std::to_string(row_total) : "-");
    rows.push_back(r);
  }
  if (view != View::row_share) {
    std::vector<std::string> r{"total"};
    for (const auto& to : to_axis) r.push_back(cell(m.column_total(to), m.total()));
    r.push_back(view == View::share ? (m.total() ? "100.0" : "-") : std::to_string(m.total()));
    rows.push_back(r);
  }
  return table(rows);
}

}  // namespace

std::string render_text(const DiffReport& report) {
  const Migration& m = report.decision;
  uint64_t moved = m.changed();
  std::string out = fmt::format("{} → {} on {}: {} customers, {} change{}\n\n", report.old_name, report.new_name,
                                report.input, m.total(), moved, moved == 1 ? "" : "s");
  // The moves, changes first and largest first (ties by value), then the
  // customers who stay.
  std::vector<std::pair<std::pair<std::string, std::string>, Migration::Cell>> moves(m.cells().begin(), m.cells().end());
  std::stable_sort(moves.begin(), moves.end(), [](auto& a, auto& b) {
    bool sa = a.first.first == a.first.second, sb = b.first.first == b.first.second;
    if (sa != sb) return !sa;
    return a.second.customers > b.second.customers;
  });
  out += fmt::format("{:>9}  {}\n", "customers", "old → new   (sample keys)");
  for (auto& [k, c] : moves) {
    if (k.first == k.second) {
      out += fmt::format("{:>9}  {}   (unchanged)\n", c.customers, k.first);
    } else {
      std::string keys;
      for (auto& key : c.keys) keys += (keys.empty() ? "" : ", ") + key;
      out += fmt::format("{:>9}  {} → {}{}\n", c.customers, k.first, k.second, keys.empty() ? "" : "   (" + keys + ")");
    }
  }
  out += fmt::format("\n{}: customers, old (rows) → new (columns)\n", report.by);
  out += matrix(m, View::customers);
  out += fmt::format("\n{}: % of all {} customers\n", report.by, m.total());
  out += matrix(m, View::share);
  out += fmt::format("\n{}: % of each old value (where its customers went)\n", report.by);
  out += matrix(m, View::row_share);
  if (!report.plan_items.empty()) {
    uint64_t compared = report.plan_items.front().migration.total();
    out += fmt::format("\nplan items: customers whose item changed, of the {} both sides decide\n", compared);
    std::vector<std::vector<std::string>> rows{{"plan item", "changed", "%"}};
    for (const auto& item : report.plan_items) {
      uint64_t n = item.migration.changed();
      rows.push_back({"plan." + item.name, std::to_string(n), percent(n, item.migration.total())});
    }
    std::string summary = table(rows);
    // Each item's line, then its largest changes below it.
    size_t at = summary.find('\n') + 1;
    out += summary.substr(0, at);
    for (const auto& item : report.plan_items) {
      size_t end = summary.find('\n', at) + 1;
      out += summary.substr(at, end - at);
      at = end;
      auto changes = item.migration.changes();
      for (size_t i = 0; i < changes.size() && i < 5; ++i) {
        out += fmt::format("  {:>9}  {} → {}\n", changes[i].second->customers, changes[i].first.first, changes[i].first.second);
      }
      if (changes.size() > 5) out += fmt::format("  {:>9}  (…{} other changes)\n", "", changes.size() - 5);
    }
  }
  return out;
}

namespace {

void csv_cells(std::string& out, const std::string& what, const Migration& m) {
  std::vector<std::string> axis = m.axis();
  for (const auto& from : axis) {
    for (const auto& to : axis) {
      uint64_t n = m.customers(from, to);
      if (n == 0) continue;
      for (const std::string* field : {&what, &from, &to}) {
        io::append_csv_field(out, *field);
        out += ',';
      }
      out += fmt::format("{},{},{}\n", n, percent(n, m.total()), percent(n, m.row_total(from)));
    }
  }
}

json share(uint64_t n, uint64_t of) { return json::parse(percent(n, of)); }

}  // namespace

std::string render_csv(const DiffReport& report) {
  std::string out = "what,old,new,customers,share,share_of_old\n";
  csv_cells(out, report.by, report.decision);
  for (const auto& item : report.plan_items) csv_cells(out, "plan." + item.name, item.migration);
  return out;
}

std::string render_json(const DiffReport& report) {
  const Migration& m = report.decision;
  std::vector<std::string> axis = m.axis();
  json cells = json::array(), rows = json::array(), columns = json::array();
  for (const auto& from : axis) {
    for (const auto& to : axis) {
      auto it = m.cells().find({from, to});
      if (it == m.cells().end()) continue;
      uint64_t n = it->second.customers;
      json cell = {{"old", from}, {"new", to}, {"customers", n}, {"share", share(n, m.total())},
                   {"share_of_old", share(n, m.row_total(from))}};
      if (from != to) cell["keys"] = it->second.keys;
      cells.push_back(cell);
    }
  }
  for (const auto& v : axis) {
    rows.push_back({{"value", v}, {"customers", m.row_total(v)}, {"share", share(m.row_total(v), m.total())}});
    columns.push_back({{"value", v}, {"customers", m.column_total(v)}, {"share", share(m.column_total(v), m.total())}});
  }
  json items = json::array();
  for (const auto& item : report.plan_items) {
    const Migration& p = item.migration;
    json changes = json::array();
    for (const auto& [k, c] : p.changes()) {
      changes.push_back({{"old", k.first}, {"new", k.second}, {"customers", c->customers},
                         {"share", share(c->customers, p.total())}, {"share_of_old", share(c->customers, p.row_total(k.first))}});
    }
    items.push_back({{"name", item.name}, {"compared", p.total()}, {"changed", p.changed()},
                     {"share", share(p.changed(), p.total())}, {"changes", changes}});
  }
  json out = {{"old", report.old_name}, {"new", report.new_name}, {"input", report.input}, {"by", report.by},
              {"total", m.total()}, {"changed", m.changed()}, {"values", axis}, {"cells", cells},
              {"rows", rows}, {"columns", columns}, {"plan_items", items}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace stratum::cli
