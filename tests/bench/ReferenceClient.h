#pragma once

#include "EmulatorProcess.h"

#include <QElapsedTimer>
#include <QObject>
#include <QSslSocket>

#include <deque>
#include <vector>

namespace ccs::bench {

// The work the reference connections share: stanzas serialized before the
// clock starts, taken in order by whichever connection has room in its window.
struct DownstreamWork {
    std::vector<QByteArray> stanzas;
    int window = 100;
    int next = 0;
    int acked = 0;
    int nacked = 0;
    std::vector<qint64> sentNs, ackNs; // by message index, on `clock`
    QElapsedTimer clock;
    int answered() const { return acked + nacked; }
};

// "The limit": the least a CCS client can do on this machine. A bare QSslSocket
// (pinned certificate, SASL PLAIN, bind), then pre-serialized stanzas written
// straight to the socket with the same 100-message window, and ACKs counted by
// finding "message_type":"ack" in each </message>-terminated stanza: no QXmpp,
// no XML parser, no JSON parser. The emulator answers in arrival order on a
// connection, so the k-th answer belongs to the k-th stanza sent on it.
class ReferenceClient : public QObject
{
    Q_OBJECT
public:
    explicit ReferenceClient(DownstreamWork *work, QObject *parent = nullptr);

    bool login(const EmulatorInfo &info, QString *error, int timeoutMs = 15000);
    void startSending();
    void close();

private:
    void onReadyRead();
    void fill();
    bool waitForText(const QByteArray &text, QString *error, int timeoutMs);

    DownstreamWork *m_work;
    QSslSocket m_socket;
    QByteArray m_buffer;
    std::deque<int> m_inflight;
    bool m_sending = false;
};

} // namespace ccs::bench
