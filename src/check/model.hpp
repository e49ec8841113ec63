// Model: what the checker knows about a rule file once its names are
// resolved and its types checked. Lowering (src/compile) reads it; the AST it
// points into stays alive beside it.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "syntax/ast.hpp"

namespace stratum {

struct EnumInfo {
  std::string name;
  Span span;
  std::vector<std::string> members;  // code = index, in declaration order
  std::unordered_map<std::string, int32_t> codes;
};

struct FieldInfo {
  std::string name;
  std::string column;  // name in the data (the `as` alias, else the name)
  Span span;
  Type type;
  bool optional = false;
  bool key = false;
};

struct LetInfo {
  std::string name;
  Span span;
  ast::Expr* value = nullptr;
  Type type;
  bool maybe_missing = false;
};

enum class DecisionSource { decide, table };

struct DecisionInfo {
  std::string name;
  Span span;
  Type type;
  DecisionSource source = DecisionSource::decide;
  int32_t index = -1;   // into module.decides or module.tables
  int32_t column = 0;   // output column of a table
};

struct TableInfo {
  ast::TableDecl* decl = nullptr;
  std::vector<Type> column_types;
  std::vector<int32_t> decisions;  // decision index per output column
  std::vector<Type> cell_types;    // the type of the result cells, per output column
  std::vector<uint32_t> row_lines; // source line of each row
};

struct Model {
  ast::Module module;
  std::string ruleset;
  std::string version;
  std::vector<EnumInfo> enums;
  std::vector<FieldInfo> fields;
  std::vector<LetInfo> lets;
  std::vector<DecisionInfo> decisions;  // in declaration order: the outputs
  std::vector<TableInfo> tables;
  int32_t key_field = -1;
  bool uses_today = false;

  std::string type_name(const Type& t) const;
};

}  // namespace stratum
