// The one list of structure families: each by its public name, with its parameters and the
// factory of its `Family` value. The Python package makes its `structgrad.<family>` modules from
// this list and the operators each family registers (structures/operators.h); the CLI and the
// estimators look families up here. Adding a family adds one entry in registry.cpp.
//
//   structgrad::Family f = structgrad::family("topk", {{"k", 3}});
#pragma once

#include <c10/util/Optional.h>

#include <functional>
#include <string>
#include <vector>

#include "structgrad/structures/family.h"

namespace structgrad {

struct FamilyParameter {
  std::string name;
  c10::optional<int64_t> default_value;  // none: the caller must give it
  std::string doc;
};

struct FamilyEntry {
  std::string name;
  std::string doc;
  std::vector<FamilyParameter> parameters;
  std::function<Family(const FamilyParams&)> make;  // the parameters complete and checked
};

// Every family, in the order the documentation lists them.
const std::vector<FamilyEntry>& family_registry();

// The family `name` with its parameters: a missing parameter takes its default, one without a
// default must be given, and an unknown name or parameter is refused, with what is known.
Family family(const std::string& name, const FamilyParams& params = {});

std::vector<std::string> family_names();

}  // namespace structgrad
