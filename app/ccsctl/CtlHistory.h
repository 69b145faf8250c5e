#pragma once

#include "CtlOptions.h"

namespace ccs::ctl {

// `ccsctl history`: prints the messages of a profile's history that match the
// filters, newest first, as text, JSON Lines (--json) or CSV (--csv). Reads page
// by page, so a large history is never loaded whole. Returns the exit code.
int runHistory(const CtlOptions &options);

} // namespace ccs::ctl
