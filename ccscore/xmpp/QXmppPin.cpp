#include "QXmppPin_p.h"

#include <QXmppGlobal.h>

namespace ccs::xmpp {

QString qxmppVerifiedVersion()
{
    return QStringLiteral("%1.%2.%3").arg(kQXmppVerifiedMajor).arg(kQXmppVerifiedMinor).arg(kQXmppVerifiedPatch);
}

QString qxmppBuildVersion()
{
    return QStringLiteral("%1.%2.%3").arg(QXMPP_VERSION_MAJOR).arg(QXMPP_VERSION_MINOR).arg(QXMPP_VERSION_PATCH);
}

QString qxmppRuntimeVersion()
{
    return QString(QXmppVersion());
}

bool qxmppIsVerified()
{
    return QXMPP_VERSION
        == QT_VERSION_CHECK(kQXmppVerifiedMajor, kQXmppVerifiedMinor, kQXmppVerifiedPatch)
        && qxmppRuntimeVersion() == qxmppVerifiedVersion();
}

QStringList disabledSaslMechanisms()
{
    // QXmpp 1.10.3, src/base/QXmppSasl.cpp (SaslMechanism / SaslHtMechanism).
    return {QStringLiteral("SCRAM-SHA-1"), QStringLiteral("SCRAM-SHA-256"), QStringLiteral("SCRAM-SHA-512"),
        QStringLiteral("SCRAM-SHA3-512"), QStringLiteral("DIGEST-MD5"), QStringLiteral("ANONYMOUS"),
        QStringLiteral("X-FACEBOOK-PLATFORM"), QStringLiteral("X-MESSENGER-OAUTH2"), QStringLiteral("X-OAUTH2"),
        QStringLiteral("HT-SHA-256-NONE"), QStringLiteral("HT-SHA-256-UNIQ"), QStringLiteral("HT-SHA-256-ENDP"),
        QStringLiteral("HT-SHA-256-EXPR")};
}

} // namespace ccs::xmpp
