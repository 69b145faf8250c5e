#pragma once

#include <QString>

namespace ccs::test {

// Folder of the shared reference (../shared/reference from the checkout), or
// the value of CCS_REFERENCE_DIR.
QString referenceDir();

} // namespace ccs::test
