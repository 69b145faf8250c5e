#pragma once

#include "SessionTypes.h"
#include "XmlSizeGuard.h"
#include "protocol/Utf8Validator.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QSslError>
#include <QTimer>
#include <QXmlStreamReader>

#include <memory>

class QXmppClient;
class QSslSocket;

namespace ccs {

class GcmStanzaExtension;

// One XMPP stream to CCS over QXmpp: direct TLS, SASL PLAIN (only once the
// socket is encrypted), bind, and <gcm> stanzas in both directions. It knows
// nothing of windows or retries; CcsSession keeps its pending set here.
// Internal to ccscore/client: QXmpp appears only in the .cpp.
class CcsConnection : public QObject
{
    Q_OBJECT
public:
    CcsConnection(int id, const ConnectionSettings &settings, QObject *parent = nullptr);
    ~CcsConnection() override;

    int id() const { return m_id; }
    void open();
    void close(); // </stream:stream>, then finished()
    void abort(SessionError error, const QString &message);

    bool isEncrypted() const;
    bool isAuthenticated() const { return m_authenticated; }
    bool hasFinished() const { return m_finished; }
    bool isClosing() const { return m_closing; }

    // Writes <message id=stanzaId><gcm xmlns="google:mobile:data">JSON</gcm></message>,
    // escaped. Only after authentication; returns false otherwise.
    bool writeGcm(const QString &stanzaId, const QByteArray &json);

    void setTrafficEnabled(bool enabled) { m_traffic = enabled; }

    // Limits on what the server may send after bind (see readStanzas()).
    // A longer <gcm> payload (or any text or attribute value) is dropped with its stanza.
    static constexpr qsizetype kMaxGcmChars = 1024 * 1024;
    // A longer tag (outside attribute values) or declaration ends the connection.
    static constexpr qsizetype kMaxMarkupBytes = 256 * 1024;
    static constexpr int kMaxDepth = 16384; // element nesting, stream element included

    // Kept by the session (the only writer): message id -> ledger index of
    // un-answered messages, and whether CCS asked this connection to drain.
    const QHash<QString, int> &pending() const { return m_pending; }
    int pendingCount() const { return int(m_pending.size()); }
    bool isDraining() const { return m_draining; }

Q_SIGNALS:
    void encrypted(); // TLS is up: SASL may start
    void authenticated(); // SASL done, resource bound: ready for <gcm> stanzas
    void gcmReceived(const QString &json);
    void stanzaErrorReceived(const ccs::StanzaError &error);
    // Once, when the stream is gone. error None: closed in an orderly way.
    void finished(ccs::SessionError error, const QString &message, bool wasAuthenticated);
    void trafficLogged(ccs::TrafficDirection direction, const QString &xml);

private:
    friend class GcmStanzaExtension;
    friend class CcsSession; // writes the pending set and the draining mark
    QHash<QString, int> m_pending;
    bool m_draining = false;

    void onLogMessage(int type, const QString &text);
    void onXmppError(SessionError error, const QString &message);
    void scheduleFinish();
    void finish();
    QString redact(QString xml) const;
    void takeOverReading();
    void onConnected();
    void readStanzas();
    void readIncoming(bool sliced);
    bool parseAvailable();
    void dispatchStanza();
    QString describeTlsErrors() const;

    int m_id;
    ConnectionSettings m_settings;
    std::unique_ptr<QXmppClient> m_client;
    QPointer<QSslSocket> m_socket;
    QTimer m_connectTimer;
    QList<QSslError> m_sslErrors;
    SessionError m_error = SessionError::None;
    QString m_errorMessage;
    bool m_authenticated = false;
    bool m_wasAuthenticated = false;
    bool m_finished = false;
    bool m_finishScheduled = false;
    bool m_closing = false;
    bool m_aborted = false; // abort() was called: nothing more is read from this stream
    bool m_traffic = false;
    // What QXmpp really did before it reported "connected": a session counts as
    // authenticated only after SASL PLAIN over TLS and a bind request.
    bool m_saslPlainSent = false;
    bool m_bindRequested = false;

    // After authentication the <gcm> traffic is read here, incrementally, instead of
    // through QXmpp's DOM parser (which re-parses its whole buffer on every read).
    struct IncomingStanza {
        QString name, id, type, gcmText;
        bool hasGcm = false;
        bool isError = false;
        bool oversized = false; // the <gcm> text passed kMaxGcmChars: dropped, not buffered
        StanzaError error;
    };
    QXmlStreamReader m_reader;
    Utf8Validator m_utf8;
    XmlSizeGuard m_guard {kMaxGcmChars, kMaxMarkupBytes};
    bool m_truncated = false; // the guard cut the construct the reader is in the middle of
    bool m_readingOurselves = false;
    int m_depth = 0;
    bool m_inGcm = false, m_inError = false, m_inErrorText = false;
    IncomingStanza m_stanza;
    // The fast path (stanza::readPlainGcmMessage) may read only while the reader
    // stands between two stanzas with nothing buffered: the last stanza it ended
    // ended exactly where the characters it was given end.
    qint64 m_charsFed = 0; // UTF-16 units given to m_reader
    qint64 m_stanzaEndAt = -1; // m_reader's offset after the last stanza it ended
    QByteArray m_plainPending; // the start of a plain stanza the last read cut off
    static constexpr qsizetype kMaxPlainPending = 16 * 1024; // a CCS stanza is a few KiB
    // Plain stanzas handled before the event loop runs again. A read of 100 ACKs
    // refills the whole window; sent in slices, the server starts on the first
    // messages while the rest are written (ccs-bench: session/limit 62% -> ~95%).
    static constexpr int kStanzasPerSlice = 5;
    bool readerIdle() const { return m_depth == 1 && m_stanzaEndAt == m_charsFed; }
    void feedReader(const QByteArray &bytes);
};

} // namespace ccs
