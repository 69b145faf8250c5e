#pragma once

#include "SessionTypes.h"
#include "xmpp/StanzaReader_p.h"

#include <QHash>
#include <QObject>
#include <QPointer>
#include <QSslError>
#include <QSslSocket>
#include <QTimer>

#include <memory>

namespace ccs {

class QXmppTransport;

// One XMPP stream to CCS: QXmppTransport connects (direct TLS), authenticates
// (SASL PLAIN, only once the socket is encrypted) and binds; then <gcm>
// stanzas go both ways, read by xmpp::StanzaReader and written by
// xmpp::writer. It knows nothing of windows or retries; CcsSession keeps its
// pending set here. Internal to ccscore/client.
class CcsConnection : public QObject, private xmpp::StanzaReader::Handler
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
    // Writes a stanza writeGcm() would write, built beforehand (a copy's, spliced).
    bool writeStanza(const QByteArray &stanza);

    void setTrafficEnabled(bool enabled) { m_traffic = enabled; }

    // The limits on what the server may send after bind: xmpp::clientReaderLimits().

    // Kept by the session (the only writer): message id -> ledger index of
    // un-answered messages, and whether CCS asked this connection to drain.
    const QHash<QString, int> &pending() const { return m_pending; }
    int pendingCount() const { return int(m_pending.size()); }
    bool isDraining() const { return m_draining; }

Q_SIGNALS:
    void encrypted(); // TLS is up: SASL may start
    void authenticated(); // SASL done, resource bound: ready for <gcm> stanzas
    // The JSON text of a <gcm> message, UTF-8, unescaped: from the fast path a view into the
    // bytes read (no copy). Valid only during the emission: connect it directly (the session
    // does, on this thread) and copy what must outlive the call; never queue it.
    void gcmReceived(QByteArrayView json);
    void stanzaErrorReceived(const ccs::StanzaError &error);
    // Once, when the stream is gone. error None: closed in an orderly way.
    void finished(ccs::SessionError error, const QString &message, bool wasAuthenticated);
    void trafficLogged(ccs::TrafficDirection direction, const QString &xml);

private:
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
    // One meaning for a stanza, whichever reader read it (QXmpp's before bind, ours after).
    void dispatchStanza(const xmpp::XmlElement &stanza, bool oversized);
    // StanzaReader::Handler
    void streamOpened(const xmpp::StreamHeader &) override { }
    void stanzaRead(xmpp::XmlElement &&stanza, bool oversized) override;
    bool plainGcmRead(QByteArrayView id, QByteArrayView json) override;
    void streamClosed() override;
    void readFailed(xmpp::ReadError error, const QString &detail) override;
    bool keepReading() const override;

    int m_id;
    ConnectionSettings m_settings;
    std::unique_ptr<QXmppTransport> m_transport;
    QPointer<QSslSocket> m_socket; // the transport's
    QTimer m_connectTimer;
    SessionError m_error = SessionError::None;
    QString m_errorMessage;
    bool m_authenticated = false;
    bool m_wasAuthenticated = false;
    bool m_finished = false;
    bool m_finishScheduled = false;
    bool m_closing = false;
    bool m_aborted = false; // abort() was called: nothing more is read from this stream
    bool m_traffic = false;

    // After authentication the <gcm> traffic is read here, incrementally, instead of
    // through QXmpp's DOM parser (which re-parses its whole buffer on every read).
    std::unique_ptr<xmpp::StanzaReader> m_reader;
    // Plain stanzas handled before the event loop runs again. A read of 100 ACKs
    // refills the whole window; sent in slices, the server starts on the first
    // messages while the rest are written.
    static constexpr int kStanzasPerSlice = 5;
    bool m_sliced = false;
    int m_handledInSlice = 0;
};

} // namespace ccs
