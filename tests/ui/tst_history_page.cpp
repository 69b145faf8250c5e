// The History tab with real widgets: search fields typed into, the paged table,
// the per-device view, retention, "Delete history", and a file it must not touch.
#include "client/MessageLedger.h"
#include "history/HistoryDatabase.h"
#include "history/HistoryPage.h"
#include "history/HistoryRecorder.h"
#include "history/HistoryWriter.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QCryptographicHash>
#include <QFile>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
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
        QSignalSpy problems(&page, &HistoryPage::problem);
        QVERIFY(!page.openProfile(QStringLiteral("Broken")));
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems.first().first().toString().contains(QStringLiteral("damaged")),
            qPrintable(problems.first().first().toString()));
        QVERIFY(problems.first().first().toString().contains(QStringLiteral("in memory")));
        QVERIFY(!page.isRecording());
        QVERIFY(!page.searchButton()->isEnabled());
        QCOMPARE(digest(path), before);
        // Another profile still works.
        QVERIFY(page.openProfile(QStringLiteral("Fine")));
        QVERIFY(page.isRecording());
        QCOMPARE(digest(path), before);
    }
};

QTEST_MAIN(TestHistoryPage)
#include "tst_history_page.moc"
