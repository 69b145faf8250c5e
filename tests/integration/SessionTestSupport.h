#pragma once

// Helpers shared by the tst_session_*.cpp and tst_ccsctl.cpp integration tests.

#include "TestEmulator.h"
#include "client/CcsSession.h"
#include "protocol/MessageIdGenerator.h"

#include <QSignalSpy>
#include <QTest>

namespace ccs::test {

inline DownstreamMessage downstream(const QString &to = QStringLiteral("dev-1"), const QString &id = {})
{
    DownstreamMessage m;
    m.to = to;
    m.messageId = id.isEmpty() ? MessageIdGenerator::next() : id;
    m.data = QJsonObject {{QStringLiteral("hello"), QStringLiteral("world")}};
    return m;
}

inline int terminalCount(const MessageLedger *ledger)
{
    int n = 0;
    for (MessageState s : {MessageState::Acked, MessageState::Delivered, MessageState::Nacked,
             MessageState::Expired, MessageState::Failed, MessageState::Cancelled})
        n += ledger->count(s);
    return n;
}

inline int ackedCount(const MessageLedger *ledger)
{
    return ledger->count(MessageState::Acked) + ledger->count(MessageState::Delivered);
}

inline QHash<QString, emulator::DownstreamRecord> recordById(const emulator::EmulatorServer *server)
{
    QHash<QString, emulator::DownstreamRecord> map;
    for (const auto &r : server->downstreamRecord())
        map.insert(r.messageId, r);
    return map;
}

// The identity of an upstream message is (from, message_id): devices choose
// their own ids. Receipts are keyed by their dr2: id alone.
inline QString upstreamKey(const QString &from, const QString &messageId)
{
    return from == QLatin1String("gcm.googleapis.com") ? messageId : from + QLatin1Char('/') + messageId;
}

inline QHash<QString, emulator::UpstreamRecord> upstreamById(const emulator::EmulatorServer *server)
{
    QHash<QString, emulator::UpstreamRecord> map;
    for (const auto &r : server->upstreamRecord())
        map.insert(upstreamKey(r.from, r.messageId), r);
    return map;
}

} // namespace ccs::test

#define CCS_START_EMULATOR(emu) QVERIFY2((emu).isRunning(), qPrintable((emu).error()))

#define CCS_OPEN_SESSION(session, settings)                                                                  \
    do {                                                                                                     \
        (session).setSettings(settings);                                                                     \
        (session).open();                                                                                    \
        QTRY_COMPARE_WITH_TIMEOUT((session).state(), ccs::SessionState::Connected, 10000);                   \
    } while (false)
