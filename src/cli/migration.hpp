// What moved between two results of one portfolio (`stratum diff`): the
// migration matrix of a decision (old value × new value), and for each plan
// item the customers whose item changed. Counting and the three layouts
// (text, CSV, JSON) live here; cmd_diff.cpp decides the customers.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace stratum::cli {

// The values a side may show besides the declared ones.
inline constexpr std::string_view kNone = "(none)";          // no value (a missing output)
inline constexpr std::string_view kRejected = "(rejected)";  // the side rejects the customer
inline constexpr std::string_view kNew = "(new)";            // not in the previous run
inline constexpr std::string_view kGone = "(gone)";          // in the previous run only

// Counts of (old value, new value) over the customers compared.
class Migration {
 public:
  struct Cell {
    uint64_t customers = 0;
    std::vector<std::string> keys;  // samples, when a change
  };

  // `declared`: the values in their declaration order (an enum's members,
  // the segment's leaves in tree order, true and false); rows and columns
  // follow it, then values met otherwise in the order met, then the
  // special values above.
  Migration(std::vector<std::string> declared, size_t samples) : declared_(std::move(declared)), samples_(samples) {}

  void add(const std::string& from, const std::string& to, std::string_view key);

  // The values shown as rows and columns: every value a customer has on
  // either side (a declared value nobody has on either side is left out).
  std::vector<std::string> axis() const;
  const std::map<std::pair<std::string, std::string>, Cell>& cells() const { return cells_; }
  uint64_t customers(const std::string& from, const std::string& to) const;
  uint64_t row_total(const std::string& from) const;
  uint64_t column_total(const std::string& to) const;
  uint64_t total() const { return total_; }
  uint64_t changed() const;
  // The changes (old ≠ new), largest first (ties in the axis' order).
  std::vector<std::pair<std::pair<std::string, std::string>, const Cell*>> changes() const;

 private:
  std::vector<std::string> declared_;
  size_t samples_;
  std::vector<std::string> met_;  // values outside `declared_`, as met
  std::map<std::pair<std::string, std::string>, Cell> cells_;
  std::map<std::string, uint64_t> rows_, columns_;
  uint64_t total_ = 0;
};

// A diff, ready to print.
struct DiffReport {
  std::string old_name, new_name, input;
  std::string by;  // the decision compared
  Migration decision;
  struct PlanItem {
    std::string name;
    Migration migration;
  };
  std::vector<PlanItem> plan_items;  // compared for the customers both sides decide
};

// `numerator / denominator` as a percentage with one decimal, rounded half
// up in integer arithmetic ("33.3"; "0.0" when the denominator is 0).
std::string percent(uint64_t numerator, uint64_t denominator);

std::string render_text(const DiffReport& report);
// Long form, one line per non-empty cell: what,old,new,customers,share,share_of_old.
std::string render_csv(const DiffReport& report);
std::string render_json(const DiffReport& report);

}  // namespace stratum::cli
