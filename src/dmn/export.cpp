// stratum export-dmn: a checked rule file's decision tables → DMN 1.3 XML.
//
// Exported: every table (and grid) of the main file whose columns read
// input fields or other exported tables, with cells of constant values
// (literals, enum values, `let`s holding a literal); the input data they
// read; enums as item definitions with allowed values. Everything else is
// named in a note: DMN's decision tables cannot hold it.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>
#include <tinyxml2.h>

#include "check/model.hpp"
#include "dmn/dmn.hpp"
#include "value/date.hpp"

namespace stratum::dmn {

namespace {

using ast::Expr;
using ast::ExprKind;

std::string feel_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "\"";
}

std::string date_text(int32_t days) {
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  return fmt::format("date(\"{:04}-{:02}-{:02}\")", y, m, d);
}

class Exporter {
 public:
  Exporter(const Model& m, std::vector<std::string>& notes) : m_(m), notes_(notes) {}

  std::optional<std::string> run(const std::string& name) {
    // Which tables can go, to a fixed point (a table reading a table that
    // cannot go cannot go either).
    std::vector<bool> ok(m_.tables.size(), false);
    std::vector<std::string> why(m_.tables.size());
    for (size_t t = 0; t < m_.tables.size(); ++t) {
      const ast::TableDecl& decl = *m_.tables[t].decl;
      if (decl.imported) continue;
      ok[t] = exportable(t, why[t]);
    }
    // DMN's input data and decisions share one namespace: an input named
    // as a decision would be read as that decision.
    std::set<std::string> decision_names;
    for (size_t t = 0; t < m_.tables.size(); ++t) {
      const ast::TableDecl& decl = *m_.tables[t].decl;
      decision_names.insert(decl.outputs.size() == 1 ? decl.outputs[0].name : decl.name);
    }
    for (size_t t = 0; t < m_.tables.size(); ++t) {
      if (!ok[t]) continue;
      for (const auto& c : m_.tables[t].decl->columns) {
        if (c->ref == ast::RefKind::field && decision_names.count(m_.fields[c->ref_index].column)) {
          ok[t] = false;
          why[t] = fmt::format("its column `{}` reads the data column `{}`, which is also a decision's name (DMN names both alike)", c->text,
                               m_.fields[c->ref_index].column);
          break;
        }
      }
    }
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t t = 0; t < m_.tables.size(); ++t) {
        if (!ok[t]) continue;
        for (const auto& c : m_.tables[t].decl->columns) {
          if (c->ref != ast::RefKind::decision) continue;
          const DecisionInfo& d = m_.decisions[c->ref_index];
          if (d.source != DecisionSource::table || !ok[d.index] || m_.tables[d.index].decl->outputs.size() != 1) {
            ok[t] = false;
            why[t] = fmt::format("its column `{}` is a decision that is not exported as a single value", c->text);
            changed = true;
            break;
          }
        }
      }
    }
    for (size_t t = 0; t < m_.tables.size(); ++t) {
      const ast::TableDecl& decl = *m_.tables[t].decl;
      if (!decl.imported && !ok[t]) notes_.push_back(fmt::format("{} `{}` not exported: {}", decl.is_grid ? "grid" : "table", decl.name, why[t]));
    }
    for (const auto& d : m_.module.decides) {
      if (!d.imported) notes_.push_back(fmt::format("decision `{}` not exported: a decision list is not a DMN decision table", d.name));
    }
    for (const auto& s : m_.module.scorecards) {
      if (!s.imported) notes_.push_back(fmt::format("scorecard `{}` not exported: DMN has no scorecards", s.name));
    }
    if (!m_.module.segments.empty()) notes_.push_back("the segment tree not exported: DMN has no segment trees");
    if (!m_.module.plans.empty()) notes_.push_back("the service plans not exported: DMN has no service plans");
    if (!m_.module.capacities.empty()) notes_.push_back("the capacity limits not exported: DMN has no capacity limits");
    if (!m_.module.tests.empty()) notes_.push_back("the tests not exported: DMN test cases are separate files");
    if (std::find(ok.begin(), ok.end(), true) == ok.end()) return std::nullopt;
    if (m_.key_field >= 0) notes_.push_back(fmt::format("the key field `{}` not exported: DMN has no record key", m_.fields[m_.key_field].name));
    for (size_t t = 0; t < m_.tables.size(); ++t) {
      const ast::TableDecl& decl = *m_.tables[t].decl;
      if (!ok[t] || decl.outputs.size() < 2) continue;
      std::string renamed;
      for (size_t k = 0; k < decl.outputs.size(); ++k) {
        if (!decl.outputs[k].name.starts_with(decl.name + "_")) renamed += (renamed.empty() ? "" : ", ") + decl.outputs[k].name;
      }
      if (!renamed.empty()) {
        notes_.push_back(fmt::format("table `{}` has several results: DMN names them inside decision `{}`, and import-dmn calls them `{}_…` ({})",
                                     decl.name, decl.name, decl.name, renamed));
      }
    }

    tinyxml2::XMLDocument doc;
    doc.InsertEndChild(doc.NewDeclaration("xml version=\"1.0\" encoding=\"UTF-8\""));
    auto* defs = doc.NewElement("definitions");
    doc.InsertEndChild(defs);
    defs->SetAttribute("xmlns", "https://www.omg.org/spec/DMN/20191111/MODEL/");
    defs->SetAttribute("namespace", attribute("urn:stratum:" + name).c_str());
    defs->SetAttribute("name", attribute(name).c_str());
    defs->SetAttribute("id", "definitions");
    defs->SetAttribute("exporter", "stratum export-dmn");
    // Fields read by exported tables, in declaration order.
    std::set<int32_t> fields;
    for (size_t t = 0; t < m_.tables.size(); ++t) {
      if (!ok[t]) continue;
      for (const auto& c : m_.tables[t].decl->columns) {
        if (c->ref == ast::RefKind::field) fields.insert(c->ref_index);
      }
    }
    // Item definitions: one per enum used.
    std::set<int32_t> enums;
    for (int32_t f : fields) if (m_.fields[f].type.base == BaseType::enum_) enums.insert(m_.fields[f].type.enum_id);
    for (size_t t = 0; t < m_.tables.size(); ++t) {
      if (!ok[t]) continue;
      for (const Type& ty : m_.tables[t].cell_types) {
        if (ty.base == BaseType::enum_) enums.insert(ty.enum_id);
      }
    }
    for (int32_t e : enums) {
      auto* item = doc.NewElement("itemDefinition");
      item->SetAttribute("name", item_name(e).c_str());
      item->SetAttribute("id", ("item_" + std::to_string(e)).c_str());
      auto* tr = doc.NewElement("typeRef");
      tr->SetText("string");
      item->InsertEndChild(tr);
      item->InsertEndChild(text_element(doc, "allowedValues", members(e)));
      defs->InsertEndChild(item);
    }
    // Decisions.
    int id = 0;
    for (size_t t = 0; t < m_.tables.size(); ++t) {
      if (!ok[t]) continue;
      const TableInfo& info = m_.tables[t];
      const ast::TableDecl& decl = *info.decl;
      auto* dec = doc.NewElement("decision");
      std::string dname = decl.outputs.size() == 1 ? decl.outputs[0].name : decl.name;
      dec->SetAttribute("name", dname.c_str());
      dec->SetAttribute("id", fmt::format("decision_{}", t).c_str());
      auto* var = doc.NewElement("variable");
      var->SetAttribute("name", dname.c_str());
      if (decl.outputs.size() == 1) var->SetAttribute("typeRef", type_ref(m_.decisions[info.decisions[0]].type, info.cell_types[0]).c_str());
      dec->InsertEndChild(var);
      for (const auto& c : decl.columns) {
        auto* req = doc.NewElement("informationRequirement");
        req->SetAttribute("id", fmt::format("req_{}", ++id).c_str());
        if (c->ref == ast::RefKind::field) {
          auto* ri = doc.NewElement("requiredInput");
          ri->SetAttribute("href", fmt::format("#input_{}", c->ref_index).c_str());
          req->InsertEndChild(ri);
        } else {
          auto* rd = doc.NewElement("requiredDecision");
          rd->SetAttribute("href", fmt::format("#decision_{}", m_.decisions[c->ref_index].index).c_str());
          req->InsertEndChild(rd);
        }
        dec->InsertEndChild(req);
      }
      auto* dt = doc.NewElement("decisionTable");
      dt->SetAttribute("id", fmt::format("table_{}", t).c_str());
      auto [policy, aggregation] = hit_policy(decl);
      dt->SetAttribute("hitPolicy", policy.c_str());
      if (!aggregation.empty()) dt->SetAttribute("aggregation", aggregation.c_str());
      for (size_t c = 0; c < decl.columns.size(); ++c) {
        auto* in = doc.NewElement("input");
        in->SetAttribute("id", fmt::format("table_{}_in_{}", t, c).c_str());
        in->SetAttribute("label", decl.columns[c]->text.c_str());
        auto* ie = doc.NewElement("inputExpression");
        ie->SetAttribute("typeRef", type_ref(info.column_types[c], info.column_types[c]).c_str());
        auto* tx = doc.NewElement("text");
        tx->SetText(column_name(*decl.columns[c]).c_str());
        ie->InsertEndChild(tx);
        in->InsertEndChild(ie);
        dt->InsertEndChild(in);
      }
      for (size_t k = 0; k < decl.outputs.size(); ++k) {
        auto* out = doc.NewElement("output");
        out->SetAttribute("id", fmt::format("table_{}_out_{}", t, k).c_str());
        if (decl.outputs.size() > 1) out->SetAttribute("name", component_name(decl, k).c_str());
        const Type& cell = info.cell_types[k];
        bool count = decl.policy == ast::HitPolicy::collect && decl.collect == ast::CollectOp::count;
        out->SetAttribute("typeRef", count ? count_cells_type(decl).c_str() : type_ref(cell, cell).c_str());
        if (cell.base == BaseType::enum_) out->InsertEndChild(text_element(doc, "outputValues", members(cell.enum_id)));
        if (decl.else_row && decl.policy != ast::HitPolicy::collect && !ast::is_missing_cell(*decl.else_row->outputs[k])) {
          out->InsertEndChild(text_element(doc, "defaultOutputEntry", value(*decl.else_row->outputs[k])));
        }
        dt->InsertEndChild(out);
      }
      for (size_t r = 0; r < decl.rows.size(); ++r) {
        const ast::TableRow& row = decl.rows[r];
        auto* rule = doc.NewElement("rule");
        rule->SetAttribute("id", fmt::format("table_{}_rule_{}", t, r).c_str());
        for (size_t c = 0; c < row.inputs.size(); ++c) rule->InsertEndChild(text_element(doc, "inputEntry", cell(row.inputs[c])));
        for (const auto& o : row.outputs) {
          rule->InsertEndChild(text_element(doc, "outputEntry", ast::is_missing_cell(*o) ? "null" : value(*o)));
        }
        dt->InsertEndChild(rule);
      }
      dec->InsertEndChild(dt);
      defs->InsertEndChild(dec);
    }
    for (int32_t f : fields) {
      const FieldInfo& fi = m_.fields[f];
      std::string type = type_ref(fi.type, fi.type);
      if (fi.domain && fi.type.is_number_like()) {
        // The field's range as the allowed values of a type of its own.
        type = unique_item_name("t" + fi.column);
        auto* item = doc.NewElement("itemDefinition");
        item->SetAttribute("name", type.c_str());
        item->SetAttribute("id", fmt::format("item_field_{}", f).c_str());
        auto* tr = doc.NewElement("typeRef");
        tr->SetText("number");
        item->InsertEndChild(tr);
        item->InsertEndChild(text_element(doc, "allowedValues", cell(*fi.domain)));
        defs->InsertFirstChild(item);
      } else if (fi.domain) {
        notes_.push_back(fmt::format("the range of field `{}` not exported (DMN allowed values are written here for numbers only)", fi.name));
      }
      auto* in = doc.NewElement("inputData");
      in->SetAttribute("name", attribute(fi.column).c_str());
      in->SetAttribute("id", fmt::format("input_{}", f).c_str());
      auto* var = doc.NewElement("variable");
      var->SetAttribute("name", attribute(fi.column).c_str());
      var->SetAttribute("typeRef", type.c_str());
      in->InsertEndChild(var);
      defs->InsertEndChild(in);
    }
    tinyxml2::XMLPrinter printer;
    doc.Print(&printer);
    std::string xml = printer.CStr();
    // Only what XML 1.0 can hold: no control character but tab and line
    // ends, no U+FFFE or U+FFFF (from a text or a name of the rules).
    for (size_t i = 0; i < xml.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(xml[i]);
      bool control = c < 0x20 && c != '\t' && c != '\n' && c != '\r';
      bool nonchar = c == 0xEF && i + 2 < xml.size() && static_cast<unsigned char>(xml[i + 1]) == 0xBF &&
                     (static_cast<unsigned char>(xml[i + 2]) == 0xBE || static_cast<unsigned char>(xml[i + 2]) == 0xBF);
      if (control || nonchar) {
        throw ExportError("the rules hold a character XML 1.0 cannot carry (a control character, U+FFFE or U+FFFF) in a name or text");
      }
    }
    return xml;
  }

 private:
  const Model& m_;
  std::vector<std::string>& notes_;

  // An output of a table of several: its column's name, without the
  // table's name and '_' in front (the importer names them `表_列`).
  static std::string component_name(const ast::TableDecl& t, size_t k) {
    const std::string& n = t.outputs[k].name;
    std::string prefix = t.name + "_";
    return n.size() > prefix.size() && n.starts_with(prefix) ? n.substr(prefix.size()) : n;
  }

  // An enum's item definition: its name, unless that is one of FEEL's own types.
  std::string item_name(int32_t e) const {
    static const std::set<std::string> feel = {"number", "string", "boolean", "date", "time", "dateTime", "dayTimeDuration",
                                               "yearMonthDuration", "Any", "context", "list", "function", "range"};
    const std::string& n = m_.enums[e].name;
    return feel.count(n) ? "t" + n : n;
  }

  std::set<std::string> item_names_;
  std::string unique_item_name(const std::string& base) {
    std::string name = base;
    for (int k = 2; item_names_.count(name) || std::any_of(m_.enums.begin(), m_.enums.end(), [&](const EnumInfo& e) { return e.name == name; }); ++k) {
      name = fmt::format("{}_{}", base, k);
    }
    item_names_.insert(name);
    return name;
  }

  // An attribute value: a tab or line end would be read back as a space.
  static std::string attribute(const std::string& s) {
    if (s.find_first_of("\t\n\r") != std::string::npos) {
      throw ExportError(fmt::format("the name `{}` holds a tab or line end, which an XML attribute cannot keep", s));
    }
    return s;
  }

  std::string members(int32_t e) const {
    std::string out;
    for (const auto& m : m_.enums[e].members) out += (out.empty() ? "" : ",") + feel_string(m);
    return out;
  }

  static tinyxml2::XMLElement* text_element(tinyxml2::XMLDocument& doc, const char* name, const std::string& text) {
    auto* e = doc.NewElement(name);
    auto* tx = doc.NewElement("text");
    tx->SetText(text.c_str());
    e->InsertEndChild(tx);
    return e;
  }

  // The DMN name a column reads: an input data's (the field's data column) or a decision's.
  std::string column_name(const Expr& c) const {
    if (c.ref == ast::RefKind::field) return m_.fields[c.ref_index].column;
    return c.text;
  }

  std::string type_ref(const Type& t, const Type& cell) const {
    switch (cell.base) {
      case BaseType::int_: case BaseType::decimal: case BaseType::money: return "number";
      case BaseType::text: return "string";
      case BaseType::boolean: return "boolean";
      case BaseType::date: return "date";
      case BaseType::enum_: return item_name(cell.enum_id);
      default: return "Any";
    }
  }

  // A `collect count` table's cells are not used; DMN still types them: as
  // the first row's value is.
  std::string count_cells_type(const ast::TableDecl& t) const {
    const Expr* c = t.rows.empty() ? nullptr : constant(*t.rows[0].outputs[0]);
    if (!c) return "number";
    switch (c->kind) {
      case ExprKind::text: case ExprKind::name: return "string";
      case ExprKind::boolean: return "boolean";
      case ExprKind::date: return "date";
      default: return "number";
    }
  }

  static std::pair<std::string, std::string> hit_policy(const ast::TableDecl& t) {
    switch (t.policy) {
      case ast::HitPolicy::first: return {"FIRST", ""};
      case ast::HitPolicy::unique: return {"UNIQUE", ""};
      case ast::HitPolicy::any: return {"ANY", ""};
      case ast::HitPolicy::priority: return {"PRIORITY", ""};
      case ast::HitPolicy::rule_order: return {"RULE ORDER", ""};
      case ast::HitPolicy::output_order: return {"OUTPUT ORDER", ""};
      case ast::HitPolicy::collect:
        switch (t.collect) {
          case ast::CollectOp::list: return {"COLLECT", ""};
          case ast::CollectOp::sum: return {"COLLECT", "SUM"};
          case ast::CollectOp::min: return {"COLLECT", "MIN"};
          case ast::CollectOp::max: return {"COLLECT", "MAX"};
          case ast::CollectOp::count: return {"COLLECT", "COUNT"};
        }
    }
    return {"UNIQUE", ""};
  }

  // The constant a cell value stands for, or nothing.
  const Expr* constant(const Expr& e) const {
    if (e.kind == ExprKind::name && e.ref == ast::RefKind::let) {
      const Expr* v = m_.lets[e.ref_index].value;
      return v ? constant(*v) : nullptr;
    }
    if (e.kind == ExprKind::number || e.kind == ExprKind::text || e.kind == ExprKind::boolean || e.kind == ExprKind::date) return &e;
    if (e.kind == ExprKind::name && e.ref == ast::RefKind::enum_value) return &e;
    if (e.kind == ExprKind::negate && e.args.size() == 1 && e.args[0]->kind == ExprKind::number) return &e;
    return nullptr;
  }

  std::string value(const Expr& e) const {
    const Expr* c = constant(e);
    if (!c) return "null";
    switch (c->kind) {
      case ExprKind::number: return c->number.to_string();
      case ExprKind::negate: return "-" + c->args[0]->number.to_string();
      case ExprKind::text: return feel_string(c->text);
      case ExprKind::boolean: return c->boolean ? "true" : "false";
      case ExprKind::date: return date_text(c->date_days);
      case ExprKind::name: return feel_string(m_.enums[c->type.enum_id].members[c->ref_index]);
      default: return "null";
    }
  }

  std::string cell(const ast::Cell& c) const {
    switch (c.kind) {
      case ast::CellKind::any: return "-";
      case ast::CellKind::missing: return "null";
      case ast::CellKind::equals: return value(*c.values[0]);
      case ast::CellKind::compare: {
        std::string op = ast::to_string(c.op);
        if (op == "==") op = "=";
        return op + " " + value(*c.values[0]);
      }
      case ast::CellKind::range:
        return fmt::format("{}{}..{}{}", c.low_closed ? "[" : "(", value(*c.values[0]), value(*c.values[1]), c.high_closed ? "]" : ")");
      case ast::CellKind::set:
      case ast::CellKind::not_set: {
        std::string list;
        for (const auto& v : c.values) list += (list.empty() ? "" : ", ") + value(*v);
        return c.kind == ast::CellKind::set ? list : "not(" + list + ")";
      }
    }
    return "-";
  }

  bool cell_ok(const ast::Cell& c) const {
    if (c.kind == ast::CellKind::missing) return true;  // written `null`
    for (const auto& v : c.values) {
      if (!constant(*v)) return false;
    }
    return true;
  }

  bool type_ok(const Type& t) const {
    if (t.is_set) return false;
    switch (t.base) {
      case BaseType::int_: case BaseType::decimal: case BaseType::money: case BaseType::text:
      case BaseType::boolean: case BaseType::date: case BaseType::enum_: return true;
      default: return false;
    }
  }

  bool exportable(size_t t, std::string& why) const {
    const TableInfo& info = m_.tables[t];
    const ast::TableDecl& decl = *info.decl;
    if (decl.policy == ast::HitPolicy::collect && decl.collect == ast::CollectOp::list) {
      why = "`collect list` gives a set (duplicates dropped), DMN's COLLECT a list";
      return false;
    }
    if (decl.else_row && decl.policy == ast::HitPolicy::collect &&
        !std::all_of(decl.else_row->outputs.begin(), decl.else_row->outputs.end(), [](const ast::ExprPtr& o) { return ast::is_missing_cell(*o); })) {
      why = "the `else` row of a collect table gives a value (DMN's aggregate of no rule is null)";
      return false;
    }
    for (size_t c = 0; c < decl.columns.size(); ++c) {
      const Expr& col = *decl.columns[c];
      if (col.ref != ast::RefKind::field && col.ref != ast::RefKind::decision) {
        why = fmt::format("its column `{}` is not an input field or a decision", col.text);
        return false;
      }
      if (col.ref == ast::RefKind::field && m_.fields[col.ref_index].optional && !ast::column_may_be_missing(decl, c)) {
        why = fmt::format("its column `{}` may be missing and then gives no result (DMN would test null: write the column `{}?`)", col.text, col.text);
        return false;
      }
      if (!type_ok(info.column_types[c])) {
        why = fmt::format("its column `{}` is {}, which DMN's S-FEEL does not hold", col.text, m_.type_name(info.column_types[c]));
        return false;
      }
    }
    for (size_t k = 0; k < info.cell_types.size(); ++k) {
      if (decl.policy == ast::HitPolicy::collect && decl.collect == ast::CollectOp::count) continue;
      if (!type_ok(info.cell_types[k])) {
        why = fmt::format("its result `{}` is {}", decl.outputs[k].name, m_.type_name(m_.decisions[info.decisions[k]].type));
        return false;
      }
    }
    for (const auto& row : decl.rows) {
      for (const auto& c : row.inputs) {
        if (!cell_ok(c)) {
          why = "a cell compares with a value computed per customer";
          return false;
        }
      }
      for (const auto& o : row.outputs) {
        if (!ast::is_missing_cell(*o) && !constant(*o)) {
          why = "a result is computed per customer (DMN output entries here are literal values)";
          return false;
        }
      }
    }
    return true;
  }
};

}  // namespace

std::optional<std::string> export_dmn(const Model& model, const std::string& name, std::vector<std::string>& notes) {
  return Exporter(model, notes).run(name);
}

}  // namespace stratum::dmn
