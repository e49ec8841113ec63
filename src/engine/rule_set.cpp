#include "engine/rule_set.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "io/readers.hpp"

namespace stratum::engine {

namespace fs = std::filesystem;

std::string bundle_hash(const std::vector<RuleFile>& files) {
  std::vector<const RuleFile*> sorted;
  for (const auto& f : files) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->path < b->path; });
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 is not available");
  auto feed = [&](std::string_view s) { EVP_DigestUpdate(ctx.get(), s.data(), s.size()); };
  // Each file as: path, NUL, its length in decimal, NUL, its bytes.
  for (const RuleFile* f : sorted) {
    feed(f->path);
    feed(std::string_view("\0", 1));
    feed(std::to_string(f->text.size()));
    feed(std::string_view("\0", 1));
    feed(f->text);
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &size);
  std::string hex;
  for (unsigned i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string main_rule_file(const std::string& folder) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().extension() == ".strat" && entry.is_regular_file(ec)) found.push_back(entry.path().filename().string());
  }
  if (ec) throw std::runtime_error(fmt::format("cannot read the folder {}: {}", folder, ec.message()));
  std::sort(found.begin(), found.end());
  if (found.size() == 1) return (fs::path(folder) / found[0]).string();
  if (std::find(found.begin(), found.end(), "main.strat") != found.end()) return (fs::path(folder) / "main.strat").string();
  if (found.empty()) throw std::runtime_error(fmt::format("the folder {} has no rule file (*.strat)", folder));
  std::string names;
  for (size_t i = 0; i < found.size() && i < 5; ++i) names += (i ? ", " : "") + found[i];
  if (found.size() > 5) names += ", …";
  throw std::runtime_error(fmt::format(
      "the folder {} has {} rule files ({}) and no main.strat: name the rule file to load", folder, found.size(), names));
}

std::shared_ptr<const RuleSet> RuleSet::load(const std::string& path, bool analyse) {
  std::string file = path;
  std::error_code ec;
  if (fs::is_directory(path, ec)) file = main_rule_file(path);
  std::shared_ptr<RuleSet> rules(new RuleSet());
  rules->compilation_ = compile_files(file, io::read_file(file), {}, analyse);
  rules->bundle_ = {file, rules->compilation_.files};
  rules->hash_ = bundle_hash(rules->bundle_.files);
  return rules;
}

std::shared_ptr<const RuleSet> RuleSet::from_bundle(const Bundle& bundle, bool analyse) {
  std::map<std::string, std::string> memory;
  for (const auto& f : bundle.files) memory[f.path] = f.text;
  std::string main = fs::path(bundle.main).filename().string();
  auto it = memory.find(main);
  if (bundle.main.empty() || it == memory.end()) {
    throw std::runtime_error(fmt::format("the bundle has no file `{}` for its main rule file `{}`", main, bundle.main));
  }
  std::shared_ptr<RuleSet> rules(new RuleSet());
  LoadOptions options;
  options.memory = &memory;
  rules->compilation_ = compile_files(bundle.main, it->second, options, analyse);
  rules->bundle_ = {bundle.main, rules->compilation_.files};
  rules->hash_ = bundle_hash(rules->bundle_.files);
  return rules;
}

}  // namespace stratum::engine
