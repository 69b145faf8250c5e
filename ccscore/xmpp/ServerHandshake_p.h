#pragma once

#include "StanzaReader_p.h"
#include "XmlElement_p.h"

#include <QByteArray>
#include <QString>

#include <functional>

namespace ccs::xmpp {

// The server's side of a CCS stream up to and around bind: stream header and
// features, SASL PLAIN (X-OAUTH2 and X-GOOGLE-TOKEN are offered, as CCS did,
// and refused), the restart, bind, session, pings and every other iq. It
// writes nothing itself: each call says what to write and what happened, and
// the stream (the emulator's EmulatorStream) acts on it.
class ServerHandshake
{
public:
    // Returns the sender ID for valid credentials, an empty string otherwise.
    using Authenticator = std::function<QString(const QString &authcid, const QString &password)>;

    enum class Phase {
        AwaitingStream, // TLS up, waiting for <stream:stream>
        AwaitingAuth, // features with mechanisms sent
        AwaitingRestart, // <success/> sent, waiting for the new stream header
        AwaitingBind, // features with bind sent
        Bound, // CCS traffic allowed
    };

    struct Step {
        enum class Kind {
            Handled, // write reply (if any), nothing more
            Authenticated, // write reply, then restart the stream reader
            AuthFailed, // write reply; closeStream if close
            Bound,
            Message, // a <message> on a bound stream: the caller's
            StreamError, // send a stream error (condition, text) and close
        };
        Kind kind = Kind::Handled;
        QByteArray reply;
        QString condition, text;
        bool close = false;
    };

    // deterministic: stream id "s<id>" and resources "ccs-1", "ccs-2"... (fuzzing, tests)
    ServerHandshake(int id, Authenticator authenticator, bool deterministic);

    Phase phase() const { return m_phase; }
    QString domain() const { return m_domain; }
    QString streamId() const { return m_streamId; }
    QString senderId() const { return m_senderId; }
    QString fullJid() const { return m_fullJid; }

    // The stream header and features to answer a <stream:stream> with.
    QByteArray streamOpened(const StreamHeader &header);
    // The header alone, for a stream error before any header was sent.
    QByteArray streamHeader() const;
    Step handle(const XmlElement &stanza);

private:
    Step auth(const XmlElement &auth);
    Step iq(const XmlElement &iq);

    int m_id;
    Authenticator m_authenticator;
    bool m_deterministic;
    Phase m_phase = Phase::AwaitingStream;
    int m_authAttempts = 0;
    QString m_domain = QStringLiteral("gcm.googleapis.com");
    QString m_streamId;
    QString m_senderId;
    QString m_authcid;
    QString m_fullJid;
    quint64 m_nextResource = 1; // deterministic resources
};

} // namespace ccs::xmpp
