// A child process for tst_history_crash: feeds messages through a MessageLedger
// into the history at a steady rate and prints what is committed after each
// batch ("committed N": messages 0..N-1 are in the file). The test kills it with
// SIGKILL part way.
#include "client/MessageLedger.h"
#include "history/HistoryRecorder.h"
#include "history/HistoryWriter.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonObject>
#include <QTimer>

#include <cstdio>

using namespace ccs;

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 4) {
        std::fprintf(stderr, "usage: history_crash_writer DB TOTAL RATE\n");
        return 2;
    }
    const QString path = args.at(1);
    const int total = args.at(2).toInt();
    const int rate = args.at(3).toInt(); // messages per second

    history::HistoryWriter writer;
    const auto opened = writer.open(path, {QStringLiteral("crash-test"), QStringLiteral("127.0.0.1"), 0, {}});
    if (!opened.ok()) {
        std::fprintf(stderr, "%s\n", qPrintable(opened.error));
        return 1;
    }
    MessageLedger ledger;
    history::HistoryRecorder recorder(&writer);
    recorder.attachLedger(&ledger);
    // Each message makes three records (added, in flight, acked), appended in order,
    // so a committed prefix of N records holds at least N / 3 whole messages.
    QObject::connect(
        &writer, &history::HistoryWriter::batchCommitted, &writer,
        [](int, qint64 records) {
            std::printf("committed %lld\n", records / 3);
            std::fflush(stdout);
        },
        Qt::DirectConnection);

    int fed = 0;
    QElapsedTimer clock;
    clock.start();
    QTimer tick;
    QObject::connect(&tick, &QTimer::timeout, &app, [&] {
        // Steady traffic at `rate`, but never far ahead of the writer: on a busy machine the
        // kill must still come while messages are being written.
        const int due = std::min<qint64>(total, clock.elapsed() * rate / 1000);
        for (; fed < due && writer.pendingRecords() < 3000; ++fed) {
            DownstreamMessage m;
            m.to = QStringLiteral("device-%1").arg(fed % 50);
            m.messageId = QStringLiteral("m-%1").arg(fed);
            m.data = QJsonObject {
                {QStringLiteral("seq"), fed}, {QStringLiteral("text"), QStringLiteral("crash safe")}};
            const int index = ledger.add(m);
            ledger.transition(index, MessageState::InFlight, 1);
            ledger.transition(index, MessageState::Acked, 1);
        }
        std::printf("fed %d\n", fed);
        std::fflush(stdout);
        if (fed >= total) {
            writer.close();
            app.quit();
        }
    });
    tick.start(5);
    return app.exec();
}
