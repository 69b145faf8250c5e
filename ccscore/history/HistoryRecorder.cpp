#include "HistoryRecorder.h"

#include "client/CcsSession.h"

#include <QDateTime>

namespace ccs::history {

HistoryRecorder::HistoryRecorder(HistoryWriter *writer, QObject *parent)
    : QObject(parent)
    , m_writer(writer)
{ }

void HistoryRecorder::attachLedger(const MessageLedger *ledger)
{
    m_ledger = ledger;
    m_connections << connect(ledger, &MessageLedger::entryAdded, this, [this](int index) {
        m_writer->append(DownstreamRecord {m_ledger->at(index), true});
    });
    m_connections << connect(ledger, &MessageLedger::entryChanged, this, [this](int index) {
        m_writer->append(DownstreamRecord {m_ledger->at(index), false});
    });
}

void HistoryRecorder::attachSession(CcsSession *session)
{
    m_session = session;
    attachLedger(session->ledger());
    m_connections << connect(session, &CcsSession::upstreamReceived, this,
        [this](const UpstreamMessage &message, int connectionId, qint64 ackedAtMs) {
            m_writer->append(
                UpstreamRecord {message, connectionId, QDateTime::currentMSecsSinceEpoch(), ackedAtMs});
        });
    m_connections << connect(
        session, &CcsSession::receiptReceived, this, [this](const Receipt &receipt, int connectionId) {
            m_writer->append(ReceiptRecord {receipt, connectionId, QDateTime::currentMSecsSinceEpoch()});
        });
    m_connections << connect(session, &CcsSession::duplicateReceived, this,
        [this](const QString &from, const QString &messageId, int timesSeen) {
            m_writer->append(DuplicateRecord {from, messageId, timesSeen});
        });
    m_connections << connect(session, &CcsSession::stateChanged, this, [this](SessionState state) {
        m_writer->append(ConnectionEventRecord {
            QDateTime::currentMSecsSinceEpoch(), 0, sessionStateName(state), QString(), QString()});
    });
    // The error text is the session's own sentence, which never holds the API key.
    m_connections << connect(
        session, &CcsSession::errorOccurred, this, [this](SessionError error, const QString &message) {
            m_writer->append(ConnectionEventRecord {QDateTime::currentMSecsSinceEpoch(), 0,
                QStringLiteral("Error"), sessionErrorName(error), message});
        });
}

void HistoryRecorder::detach()
{
    for (const auto &c : std::as_const(m_connections))
        disconnect(c);
    m_connections.clear();
    m_session = nullptr;
    m_ledger = nullptr;
}

} // namespace ccs::history
