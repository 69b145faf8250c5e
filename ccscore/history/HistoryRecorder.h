#pragma once

#include "HistoryWriter.h"

#include <QObject>
#include <QPointer>

namespace ccs {
class CcsSession;
class MessageLedger;
} // namespace ccs

namespace ccs::history {

// Feeds a HistoryWriter from a session's signals and its ledger's: every
// downstream message as it changes, upstream messages, receipts, redeliveries
// and connection events. Each signal costs one record append (shared values).
class HistoryRecorder : public QObject
{
    Q_OBJECT
public:
    explicit HistoryRecorder(HistoryWriter *writer, QObject *parent = nullptr);

    void attachSession(CcsSession *session); // also attaches its ledger
    void attachLedger(const MessageLedger *ledger);
    void detach();

private:
    HistoryWriter *m_writer;
    QPointer<CcsSession> m_session;
    QPointer<const MessageLedger> m_ledger;
    QList<QMetaObject::Connection> m_connections;
};

} // namespace ccs::history
