#pragma once

#include "ConformanceGrader.h"

#include <QByteArray>
#include <QString>

namespace ccs::emulator::conformance {

// The readable table printed at the end of a run.
QString textReport(const ConformanceGrader &grader);
// {"rules": [{"id", "status", "evidence": [...], "explanation"}], "passed": bool, "traffic": {...}}
QByteArray jsonReport(const ConformanceGrader &grader, double durationSeconds);
// JUnit XML: one test suite, one test case per rule (failure / skipped).
QByteArray junitReport(const ConformanceGrader &grader, double durationSeconds);
// Writes bytes to path (atomically); false with *error set otherwise.
bool writeReport(const QString &path, const QByteArray &bytes, QString *error);

} // namespace ccs::emulator::conformance
