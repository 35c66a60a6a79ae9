// A core header that includes the runtime: what scripts/check-layers.py must reject.
#pragma once

#include "pagoda/runtime/engine.hpp"
