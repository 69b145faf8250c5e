// The History tab with real widgets: search fields typed into, the paged table,
// the per-device view, retention, "Delete history", and a file it must not touch.
#include "client/MessageLedger.h"
#include "history/HistoryDatabase.h"
#include "history/DeviceTimeline.h"
#include "history/HistoryPage.h"
#include "history/HistoryRecorder.h"
#include "history/HistoryWriter.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QCryptographicHash>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace ccs;
using namespace ccs::ui;

namespace {

// Fills a profile's history the way a session would: through the ledger and the recorder.
void fill(const QString &path, int count)
{
    history::HistoryWriter writer;
    QVERIFY(writer.open(path, {QStringLiteral("test"), {}, 0, {}}).ok());
    MessageLedger ledger;
    history::HistoryRecorder recorder(&writer);
    recorder.attachLedger(&ledger);
    for (int i = 0; i < count; ++i) {
        DownstreamMessage m;
        m.to = QStringLiteral("device-%1").arg(i % 10);
        m.messageId = QStringLiteral("m-%1").arg(i);
        m.data = QJsonObject {
            {QStringLiteral("text"), i % 100 == 0 ? QStringLiteral("rare marker") : QStringLiteral("plain")}};
        const int index = ledger.add(m);
        ledger.transition(index, MessageState::InFlight, 1);
        if (i % 25 == 0) {
            ledger.entryForUpdate(index).nackText = QStringLiteral("DEVICE_UNREGISTERED");
            ledger.transition(index, MessageState::Nacked, 1, QStringLiteral("DEVICE_UNREGISTERED"));
        } else {
            ledger.transition(index, MessageState::Acked, 1);
        }
    }
    UpstreamMessage up;
    up.from = QStringLiteral("device-3");
    up.messageId = QStringLiteral("1");
    up.data = QJsonObject {{QStringLiteral("reply"), QStringLiteral("yes")}};
    writer.append(history::UpstreamRecord {up, 1, QDateTime::currentMSecsSinceEpoch(), 0});
    writer.close();
}

QByteArray digest(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

} // namespace

class TestHistoryPage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void opensWithThePreviousSessionsAndSearches()
    {
        QTemporaryDir dir;
        fill(dir.filePath(history::fileNameForProfile(QStringLiteral("Work"))), 1000);
        HistoryPage page;
        QAbstractItemModelTester tester(page.model());
        page.setDirectory(dir.path());
        page.resize(1000, 600);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QVERIFY(page.openProfile(QStringLiteral("Work")));
        // The last sessions' traffic is there at once, one page of it.
        QCOMPARE(page.model()->rowCount(), HistoryTableModel::kPageSize);
        QVERIFY(page.statusLabel()->text().startsWith(QLocale().toString(1000) + QStringLiteral(" sent")));
        QVERIFY(page.model()->canFetchMore({}));

        // Words in the data.
        QTest::keyClicks(page.textEdit(), QStringLiteral("rare"));
        QTest::keyClick(page.textEdit(), Qt::Key_Return);
        QCOMPARE(page.model()->rowCount(), 10);
        page.textEdit()->clear();

        // A state and a NACK code.
        page.stateCombo()->setCurrentIndex(page.stateCombo()->findText(QStringLiteral("Nacked")));
        QTest::mouseClick(page.searchButton(), Qt::LeftButton);
        QCOMPARE(page.model()->rowCount(), 40);
        page.stateCombo()->setCurrentIndex(0);
        QTest::keyClicks(page.nackEdit(), QStringLiteral("device_unregistered"));
        QTest::mouseClick(page.searchButton(), Qt::LeftButton);
        QCOMPARE(page.model()->rowCount(), 40);
        page.nackEdit()->clear();

        // A message id.
        QTest::keyClicks(page.messageIdEdit(), QStringLiteral("m-517"));
        QTest::mouseClick(page.searchButton(), Qt::LeftButton);
        QCOMPARE(page.model()->rowCount(), 1);
        QCOMPARE(page.model()->index(0, HistoryTableModel::TokenColumn).data().toString(),
            QStringLiteral("device-7"));

        // The per-device view: double-click the row.
        const QModelIndex cell = page.model()->index(0, HistoryTableModel::MessageIdColumn);
        const QRect rect = page.view()->visualRect(cell);
        QTest::mouseClick(page.view()->viewport(), Qt::LeftButton, {}, rect.center());
        QTest::mouseDClick(page.view()->viewport(), Qt::LeftButton, {}, rect.center());
        QCOMPARE(page.tokenEdit()->text(), QStringLiteral("device-7"));
        QVERIFY(page.messageIdEdit()->text().isEmpty());
        QCOMPARE(page.model()->rowCount(), 100); // 100 sent to device-7; device-3 sent the upstream one

        // Scrolling to the end fetches the next pages; never everything at once.
        page.tokenEdit()->clear();
        QTest::mouseClick(page.searchButton(), Qt::LeftButton);
        QCOMPARE(page.model()->rowCount(), HistoryTableModel::kPageSize);
        page.view()->scrollToBottom();
        QTRY_VERIFY(page.model()->rowCount() > HistoryTableModel::kPageSize);
        while (page.model()->canFetchMore({}))
            page.model()->fetchMore({});
        QCOMPARE(page.model()->rowCount(), 1001);
    }

    void retentionAndDelete()
    {
        QTemporaryDir dir;
        fill(dir.filePath(history::fileNameForProfile(QStringLiteral("Keep"))), 300);
        HistoryPage page;
        page.setDirectory(dir.path());
        QVERIFY(page.openProfile(QStringLiteral("Keep")));
        page.keepMessages()->setValue(100);
        QTest::mouseClick(
            page.findChild<QPushButton *>(QStringLiteral("historyApplyRetention")), Qt::LeftButton);
        page.search();
        QVERIFY2(page.statusLabel()->text().startsWith(QStringLiteral("100 sent")),
            qPrintable(page.statusLabel()->text()));
        {
            // Kept per profile, in its own file: a new page reads it back.
            HistoryPage again;
            again.setDirectory(dir.path());
            QVERIFY(again.openProfile(QStringLiteral("Keep")));
            QCOMPARE(again.keepMessages()->value(), 100);
        }
        bool asked = false;
        page.setConfirmation([&](const QString &) { return asked = true, false; });
        QTest::mouseClick(page.deleteButton(), Qt::LeftButton);
        QVERIFY(asked);
        QCOMPARE(page.model()->rowCount(), 101); // said no: 100 sent and the upstream one
        page.setConfirmation([](const QString &) { return true; });
        QTest::mouseClick(page.deleteButton(), Qt::LeftButton);
        QCOMPARE(page.model()->rowCount(), 0);
        QVERIFY(page.statusLabel()->text().startsWith(QStringLiteral("0 sent")));
    }

    void perDeviceTimeline()
    {
        QTemporaryDir dir;
        fill(dir.filePath(history::fileNameForProfile(QStringLiteral("Devices"))), 200);
        HistoryPage page;
        page.setDirectory(dir.path());
        page.resize(1100, 700);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QVERIFY(page.openProfile(QStringLiteral("Devices")));
        QVERIFY(!page.timeline()->isVisible());
        QVERIFY(!page.showAllButton()->isVisible());

        // Double-click a message to device-3: its device's view, with its timeline.
        QTest::keyClicks(page.messageIdEdit(), QStringLiteral("m-103"));
        QTest::keyClick(page.messageIdEdit(), Qt::Key_Return);
        QCOMPARE(page.model()->rowCount(), 1);
        const QRect rect = page.view()->visualRect(page.model()->index(0, HistoryTableModel::MessageIdColumn));
        QTest::mouseClick(page.view()->viewport(), Qt::LeftButton, {}, rect.center());
        QTest::mouseDClick(page.view()->viewport(), Qt::LeftButton, {}, rect.center());
        QCOMPARE(page.tokenEdit()->text(), QStringLiteral("device-3"));
        QCOMPARE(page.model()->rowCount(), 21); // 20 sent to it, 1 received from it
        QVERIFY(page.timeline()->isVisible());
        QVERIFY(page.viewLabel()->text().contains(QStringLiteral("device-3")));
        DeviceTimeline *timeline = page.timeline();
        QCOMPARE(timeline->token(), QStringLiteral("device-3"));
        QCOMPARE(timeline->lanes().size(), DeviceTimeline::kMaxLanes); // the newest 12 of its 20
        QCOMPARE(timeline->lanes().first().messageId, QStringLiteral("m-193"));
        // Each lane: the message's states over time, in order.
        const DeviceTimeline::Lane &acked = timeline->lanes().first();
        QStringList states;
        for (const auto &stretch : acked.stretches)
            states << stretch.state;
        QCOMPARE(states, (QStringList {QStringLiteral("Queued"), QStringLiteral("InFlight"), QStringLiteral("Acked")}));
        QVERIFY(acked.stretches.at(0).startMs <= acked.stretches.at(1).startMs);
        QCOMPARE(acked.stretches.at(0).endMs, acked.stretches.at(1).startMs);
        QCOMPARE(timeline->lanes().last().messageId, QStringLiteral("m-83"));
        // What the device sent is on the timeline too.
        QCOMPARE(timeline->marks().size(), 1);
        QCOMPARE(timeline->marks().first().kind, history::RowKind::Upstream);
        QVERIFY(timeline->height() >= timeline->sizeHint().height());
        // The lanes tell what they are when pointed at.
        const int laneHeight = timeline->fontMetrics().height() + 4;
        const int laneY = 2 + laneHeight + laneHeight / 2; // the first message's lane, under the device's
        QVERIFY(timeline->describeAt(QPoint(timeline->width() / 2, laneY)).startsWith(QStringLiteral("m-193\n")));
        // Another device: its own view.
        page.showDevice(QStringLiteral("device-5"));
        QCOMPARE(timeline->lanes().first().messageId, QStringLiteral("m-195"));
        QCOMPARE(timeline->lanes().at(2).messageId, QStringLiteral("m-175")); // 175 % 25 == 0: NACKed
        QCOMPARE(timeline->lanes().at(2).stretches.last().state, QStringLiteral("Nacked"));
        QCOMPARE(timeline->lanes().first().stretches.last().state, QStringLiteral("Acked"));
        QCOMPARE(timeline->marks().size(), 0);
        // Back to every device.
        QTest::mouseClick(page.showAllButton(), Qt::LeftButton);
        QVERIFY(page.tokenEdit()->text().isEmpty());
        QVERIFY(!page.timeline()->isVisible());
        QCOMPARE(page.model()->rowCount(), HistoryTableModel::kPageSize);
    }

    void exportAndImport()
    {
        QTemporaryDir dir;
        fill(dir.filePath(history::fileNameForProfile(QStringLiteral("Export"))), 300);
        HistoryPage page;
        page.setDirectory(dir.path());
        page.setImportDirectory(dir.filePath(QStringLiteral("imported")));
        page.resize(1100, 700);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QVERIFY(page.openProfile(QStringLiteral("Export")));
        QSignalSpy problems(&page, &HistoryPage::problem);

        // Export the search for device-4 (30 sent): every page of it, as ccsctl history --json.
        page.showDevice(QStringLiteral("device-4"));
        const QString exported = dir.filePath(QStringLiteral("device-4.jsonl"));
        page.setFileChooser([&](bool save) { return save ? exported : QString(); });
        QTest::mouseClick(page.exportButton(), Qt::LeftButton);
        QFile file(exported);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = file.readAll().trimmed().split('\n');
        file.close();
        QCOMPARE(lines.size(), 30);
        QCOMPARE(QJsonDocument::fromJson(lines.first()).object().value(QLatin1String("message_id")).toString(),
            QStringLiteral("m-294"));
        QCOMPARE(QJsonDocument::fromJson(lines.first()).object().value(QLatin1String("kind")).toString(),
            QStringLiteral("downstream"));

        // Broken lines in the file to import: the good ones come in, the others are named by line.
        const QString toImport = dir.filePath(QStringLiteral("case.jsonl"));
        {
            QFile out(toImport);
            QVERIFY(out.open(QIODevice::WriteOnly));
            for (int i = 0; i < lines.size(); ++i) {
                out.write(lines.at(i) + "\n");
                if (i == 2)
                    out.write("not json at all\n"); // line 4
            }
        }
        page.setFileChooser([&](bool save) { return save ? QString() : toImport; });
        QTest::mouseClick(page.importButton(), Qt::LeftButton);
        QVERIFY(page.isShowingImported());
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems.first().first().toString().contains(QStringLiteral("30 message(s) imported")),
            qPrintable(problems.first().first().toString()));
        QVERIFY2(problems.first().first().toString().contains(QStringLiteral("line 4: not JSON")),
            qPrintable(problems.first().first().toString()));
        // Shown read-only and clearly labelled, searchable.
        QVERIFY2(page.viewLabel()->text().startsWith(QStringLiteral("Imported from case.jsonl (read-only)")),
            qPrintable(page.viewLabel()->text()));
        QVERIFY(page.statusLabel()->text().startsWith(QStringLiteral("Imported, read-only: 30 sent")));
        QVERIFY(!page.deleteButton()->isEnabled());
        QVERIFY(!page.keepMessages()->isEnabled());
        QCOMPARE(page.model()->rowCount(), 30);
        QTest::keyClicks(page.textEdit(), QStringLiteral("rare"));
        QTest::keyClick(page.textEdit(), Qt::Key_Return);
        QCOMPARE(page.model()->rowCount(), 0); // device-4 never got a rare marker
        page.textEdit()->clear();
        QTest::keyClicks(page.messageIdEdit(), QStringLiteral("m-104"));
        QTest::mouseClick(page.searchButton(), Qt::LeftButton);
        QCOMPARE(page.model()->rowCount(), 1);
        page.messageIdEdit()->clear();
        // Its export is the file it came from (less the broken line).
        const QString again = dir.filePath(QStringLiteral("again.jsonl"));
        QTest::mouseClick(page.searchButton(), Qt::LeftButton);
        QCOMPARE(page.exportSearch(again), 30);
        QFile back(again);
        QVERIFY(back.open(QIODevice::ReadOnly));
        QCOMPARE(back.readAll().trimmed().split('\n'), lines);
        // Nothing was recorded into it, nor deleted: the profile's history is there when going back.
        QVERIFY(page.showAllButton()->isVisible());
        QTest::mouseClick(page.showAllButton(), Qt::LeftButton);
        QVERIFY(!page.isShowingImported());
        QVERIFY(page.statusLabel()->text().startsWith(QLocale().toString(300) + QStringLiteral(" sent")));
        QVERIFY(page.deleteButton()->isEnabled());
    }

    void aDamagedFileIsReportedAndLeftAlone()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(history::fileNameForProfile(QStringLiteral("Broken")));
        {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(QByteArray(4096, '\x7f'));
        }
        const QByteArray before = digest(path);
        HistoryPage page;
        page.setDirectory(dir.path());
        page.resize(1000, 600);
        page.show();
        QVERIFY(QTest::qWaitForWindowExposed(&page));
        QSignalSpy problems(&page, &HistoryPage::problem);
        QVERIFY(!page.openProfile(QStringLiteral("Broken")));
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems.first().first().toString().contains(QStringLiteral("damaged")),
            qPrintable(problems.first().first().toString()));
        QVERIFY(problems.first().first().toString().contains(QStringLiteral("in memory")));
        keepsWorkingInMemory(page, path, before);
        QVERIFY(!QFile::exists(path + QStringLiteral("-wal")));
        // Another profile still works, on disk.
        QVERIFY(page.openProfile(QStringLiteral("Fine")));
        QVERIFY(page.isRecording());
        QVERIFY(!page.isInMemory());
        QCOMPARE(digest(path), before);
        QVERIFY(!QFile::exists(path + QStringLiteral("-wal")));
    }

    void aLockedFileIsReportedAndLeftAlone()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(history::fileNameForProfile(QStringLiteral("Locked")));
        fill(path, 10);
        const QByteArray before = digest(path);
        {
            // Another program holds the file exclusively while the window opens the profile.
            QSqlDatabase holder = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("holder"));
            holder.setDatabaseName(path);
            QVERIFY(holder.open());
            QSqlQuery q(holder);
            QVERIFY(q.exec(QStringLiteral("PRAGMA locking_mode=EXCLUSIVE")));
            QVERIFY(q.exec(QStringLiteral("BEGIN EXCLUSIVE")));
            QVERIFY(q.exec(QStringLiteral("SELECT count(*) FROM session")));
            HistoryPage page;
            page.setDirectory(dir.path());
            page.resize(1000, 600);
            page.show();
            QVERIFY(QTest::qWaitForWindowExposed(&page));
            QSignalSpy problems(&page, &HistoryPage::problem);
            // Reported after a short wait for the lock, not after the 5 s busy timeout an open
            // history uses: the window does not freeze.
            QElapsedTimer opening;
            opening.start();
            QVERIFY(!page.openProfile(QStringLiteral("Locked")));
            QVERIFY2(opening.elapsed() < 2500, qPrintable(QString::number(opening.elapsed())));
            QCOMPARE(problems.size(), 1);
            QVERIFY2(problems.first().first().toString().contains(QStringLiteral("locked")),
                qPrintable(problems.first().first().toString()));
            keepsWorkingInMemory(page, path, before);
            QVERIFY(q.exec(QStringLiteral("ROLLBACK")));
            q.finish();
            holder.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("holder"));
        QCOMPARE(digest(path), before);
    }

private:
    // The file could not be used: the page records into memory, searches it, and the file
    // keeps its bytes.
    static void keepsWorkingInMemory(HistoryPage &page, const QString &path, const QByteArray &before)
    {
        QVERIFY(page.isInMemory());
        QVERIFY(page.isRecording());
        QVERIFY(page.searchButton()->isEnabled());
        QVERIFY2(page.statusLabel()->text().startsWith(QStringLiteral("In memory only")),
            qPrintable(page.statusLabel()->text()));
        {
            MessageLedger ledger;
            history::HistoryRecorder recorder(page.writer());
            recorder.attachLedger(&ledger);
            for (int i = 0; i < 30; ++i) {
                DownstreamMessage m;
                m.to = QStringLiteral("mem-device-%1").arg(i % 3);
                m.messageId = QStringLiteral("mem-%1").arg(i);
                m.data = QJsonObject {{QStringLiteral("text"),
                    i == 7 ? QStringLiteral("only in memory") : QStringLiteral("plain")}};
                const int index = ledger.add(m);
                ledger.transition(index, MessageState::InFlight, 1);
                ledger.transition(index, MessageState::Acked, 1);
            }
            recorder.detach();
        }
        page.textEdit()->clear();
        QTest::mouseClick(page.searchButton(), Qt::LeftButton);
        QCOMPARE(page.model()->rowCount(), 30);
        QTest::keyClicks(page.textEdit(), QStringLiteral("memory"));
        QTest::keyClick(page.textEdit(), Qt::Key_Return);
        QCOMPARE(page.model()->rowCount(), 1);
        QCOMPARE(page.model()->index(0, HistoryTableModel::MessageIdColumn).data().toString(),
            QStringLiteral("mem-7"));
        QCOMPARE(page.model()->index(0, HistoryTableModel::StateColumn).data().toString(),
            QStringLiteral("Acked"));
        page.textEdit()->clear();
        QVERIFY(page.statusLabel()->text().startsWith(QStringLiteral("In memory only: 30 sent")));
        QCOMPARE(digest(path), before);
    }
};

QTEST_MAIN(TestHistoryPage)
#include "tst_history_page.moc"
