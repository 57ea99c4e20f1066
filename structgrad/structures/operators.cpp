#include "structgrad/structures/operators.h"

namespace structgrad {
namespace {

// Filled while the library loads (the registration blocks are static initializers), read after.
std::vector<FamilyOperator>& registered() {
  static std::vector<FamilyOperator> operators;
  return operators;
}

}  // namespace

const std::vector<FamilyOperator>& family_operators() { return registered(); }

void FamilyOperators::record(const std::string& verb, const char* doc) {
  registered().push_back({family_, verb, doc});
}

}  // namespace structgrad
