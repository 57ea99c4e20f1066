// The whole public C++ API of structgrad.
#pragma once

#include "structgrad/distributions/concrete.h"
#include "structgrad/distributions/igr.h"
#include "structgrad/distributions/kl.h"
#include "structgrad/distributions/prior_fit.h"
#include "structgrad/estimators/check.h"
#include "structgrad/estimators/estimators.h"
#include "structgrad/ops/ksubset.h"
#include "structgrad/ops/sparsemax.h"
#include "structgrad/ops/threads.h"
#include "structgrad/structures/categorical.h"
#include "structgrad/structures/family.h"
#include "structgrad/structures/topk.h"
