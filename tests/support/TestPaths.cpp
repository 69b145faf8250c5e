#include "TestPaths.h"

#include <QDir>
#include <QFileInfo>

namespace ccs::test {

QString referenceDir()
{
    const QString fromEnv = qEnvironmentVariable("CCS_REFERENCE_DIR");
    if (!fromEnv.isEmpty())
        return fromEnv;
    // The checkout's parent holds shared/ (as for developers and CI).
    QDir dir(QStringLiteral(CCS_SOURCE_DIR));
    return QFileInfo(dir.absoluteFilePath(QStringLiteral("../shared/reference"))).absoluteFilePath();
}

} // namespace ccs::test
