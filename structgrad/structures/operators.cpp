#include "structgrad/structures/operators.h"

namespace structgrad {
namespace {

// Filled while the library loads (the registration blocks are static initializers), read after.
std::vector<FamilyOperator>& registered() {
  static std::vector<FamilyOperator> operators;
  return operators;
}

std::map<std::string, std::string>& module_docs() {
  static std::map<std::string, std::string> docs;
  return docs;
}

}  // namespace

const std::vector<FamilyOperator>& family_operators() { return registered(); }

const std::map<std::string, std::string>& operator_family_docs() { return module_docs(); }

FamilyOperators::FamilyOperators(torch::Library& library, std::string family, const char* module_doc)
    : FamilyOperators(library, std::move(family)) {
  module_docs()[family_] = module_doc;
}

void FamilyOperators::record(const std::string& verb, const char* doc) {
  registered().push_back({family_, verb, doc});
}

}  // namespace structgrad
