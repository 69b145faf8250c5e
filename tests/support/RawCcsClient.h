#pragma once

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QSslSocket>
#include <QStringList>
#include <QXmlStreamReader>

#include <functional>
#include <memory>

namespace ccs::test {

class TestEmulator;

// A deliberately small CCS client on a bare QSslSocket, written from the
// reference and not from ccscore, so tests see the wire as an outsider does:
// stream header, SASL PLAIN, stream restart, bind, then raw <message> stanzas.
// Every received top-level stanza is kept (and parsed when it holds <gcm>).
// Blocking helpers spin the event loop; nothing here sleeps.
class RawCcsClient : public QObject
{
    Q_OBJECT
public:
    struct Stanza {
        QString name; // "message", "iq", "success", "failure", "features", ...
        QString ns;
        QString id;
        QString type; // the type attribute ("error" for a stanza error)
        QString gcmText; // the text of <gcm xmlns="google:mobile:data">, unescaped
        QJsonObject json; // gcmText parsed (empty if it is not a JSON object)
        QString errorCondition; // <error><bad-request/>... or <failure><not-authorized/>
        QString errorText;
        QStringList childNames; // names of the direct children
        QStringList texts; // texts of the grandchildren (e.g. the SASL mechanisms)
    };

    explicit RawCcsClient(QObject *parent = nullptr);
    ~RawCcsClient() override;

    // Trust only this certificate; the host name checked is peerVerifyName
    // (default "gcm.googleapis.com").
    void setPinnedCertificate(const QSslCertificate &certificate);
    void setPeerVerifyName(const QString &name);

    bool connectTls(const QString &host, quint16 port, int timeoutMs = 30000);
    // Sends the stream header and waits for the features.
    bool openStream(const QString &domain = QStringLiteral("gcm.googleapis.com"), int timeoutMs = 30000);
    QStringList mechanisms() const { return m_mechanisms; } // from the first features
    QStringList features() const { return m_featureNames; } // names in the latest features
    // SASL PLAIN with authzid empty. True on <success/>; then restarts the stream.
    bool authenticate(const QString &authcid, const QString &password, int timeoutMs = 30000);
    QString saslFailure() const { return m_saslFailure; } // "not-authorized", ...
    bool bind(const QString &resource = QStringLiteral("raw"), int timeoutMs = 30000);
    QString boundJid() const { return m_boundJid; }
    // All of the above: SENDER_ID@gcm.googleapis.com, bind. *error says which step failed.
    bool login(const QString &host, quint16 port, const QString &senderId, const QString &apiKey,
        QString *error = nullptr);

    // Pins emulator's certificate and logs in as its sender (TestEmulator::kSenderId).
    bool loginTo(const TestEmulator &emulator, QString *error = nullptr);
    // Logs in, sends `count` messages to dev-1 one at a time (each after the
    // previous answer) and lists the answers in order as "ID:TYPEERROR".
    static bool answersOneByOne(const TestEmulator &emulator, int count, QStringList *answers);

    void sendRaw(const QByteArray &xml);
    // <message id=ID><gcm xmlns="google:mobile:data">escaped text</gcm></message>; returns the id used.
    QString sendGcmText(const QString &jsonText, const QString &stanzaId = {});
    QString sendJson(const QJsonObject &json, const QString &stanzaId = {});
    // {"to": TO, "message_id": ID, "message_type": "ack"}
    void ack(const QString &to, const QString &messageId);
    // Sends </stream:stream>.
    void closeStream();
    void abort();

    const QList<Stanza> &received() const { return m_received; }
    // The JSON of every <gcm> message that is not a stanza error, in order.
    QList<QJsonObject> gcmMessages() const;
    QList<Stanza> stanzaErrors() const;
    int gcmCount() const { return static_cast<int>(gcmMessages().size()); }
    // Waits until a gcm message satisfying pred arrives (or has arrived already).
    bool waitForGcm(const std::function<bool(const QJsonObject &)> &pred, QJsonObject *out = nullptr,
        int timeoutMs = 30000);
    bool waitForGcmCount(int count, int timeoutMs = 30000);
    bool waitFor(const std::function<bool()> &condition, int timeoutMs = 30000);
    bool waitForDisconnected(int timeoutMs = 30000);

    bool isConnected() const;
    bool streamClosedByServer() const { return m_streamClosed; }
    QString streamError() const
    {
        return m_streamError;
    } // condition of <stream:error>, e.g. "not-well-formed"
    QString streamErrorText() const { return m_streamErrorText; }
    QList<QSslError> sslErrors() const { return m_sslErrors; }
    QSslSocket *socket() const { return m_socket.get(); }
    qint64 bytesReceived() const { return m_bytesReceived; }
    QByteArray rawReceived() const { return m_raw; } // every byte after TLS, as it came

    static QString escape(QStringView text);

Q_SIGNALS:
    void stanzaReceived(const ccs::test::RawCcsClient::Stanza &stanza);
    void disconnected();

private:
    struct Node;
    void onReadyRead();
    void handleTopLevel(const Node &node);
    void resetReader();

    std::unique_ptr<QSslSocket> m_socket;
    std::unique_ptr<QXmlStreamReader> m_reader;
    std::vector<std::unique_ptr<Node>> m_stack;
    QList<QSslCertificate> m_pinned;
    QString m_peerVerifyName = QStringLiteral("gcm.googleapis.com");
    QList<Stanza> m_received;
    QStringList m_mechanisms;
    QStringList m_featureNames;
    int m_featuresSeen = 0;
    bool m_streamOpen = false;
    bool m_streamClosed = false;
    QString m_saslFailure;
    bool m_saslSuccess = false;
    QString m_boundJid;
    QString m_streamError;
    QString m_streamErrorText;
    QList<QSslError> m_sslErrors;
    qint64 m_bytesReceived = 0;
    QByteArray m_raw;
    int m_nextId = 1;
};

} // namespace ccs::test
