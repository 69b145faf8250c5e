// The window driven like a user would, against the in-process local emulator.
#include "OffscreenScreens.h"
#include "TestEmulator.h"
#include "common/FollowingTableView.h"
#include "common/MessageBanner.h"
#include "composer/ComposerPanel.h"
#include "composer/JsonEditor.h"
#include "connection/ProfileDialog.h"
#include "emulator/EmulatorPanel.h"
#include "emulator/LocalEmulator.h"
#include "inbox/InboxModel.h"
#include "inbox/InboxPage.h"
#include "mainwindow/MainWindow.h"
#include "outbox/OutboxModel.h"
#include "outbox/OutboxPage.h"
#include "timeline/ReceiptTimeline.h"
#include "timeline/TimelinePage.h"
#include "traffic/TrafficLogModel.h"
#include "traffic/TrafficPage.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace ccs;
using namespace ccs::ui;

namespace {
constexpr int kConnectTimeout = 20000;

// With CCS_UI_SCREENSHOT_DIR set, the tests save what they looked at (for people, not for asserts).
void saveLook(QWidget *widget, const QString &name)
{
    const QString dir = qEnvironmentVariable("CCS_UI_SCREENSHOT_DIR");
    if (!dir.isEmpty())
        widget->grab().save(dir + QLatin1Char('/') + name + QStringLiteral(".png"));
}
constexpr int kDeliveryTimeout = 15000;
} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void composeAndSendUntilDelivered();
    void upstreamAppearsOnceAndIsAcked();
    void invalidInputBlocksSending();
    void sendCopiesWithProgressAndCancel();
    void keychainFallbackKeepsKeyForSession();
    void layoutAndLastProfilePersist();

private:
    std::unique_ptr<MainWindow> makeWindow(bool autoConnect = true);
    QString registeredToken() const;

    QTemporaryDir m_home;
    std::unique_ptr<MainWindow> m_window;
};

void TestMainWindow::initTestCase()
{
    QVERIFY(m_home.isValid());
    // Settings, templates and the emulator's certificate go to a throw-away home.
    qputenv("XDG_CONFIG_HOME", m_home.filePath(QStringLiteral("config")).toUtf8());
    qputenv("XDG_DATA_HOME", m_home.filePath(QStringLiteral("data")).toUtf8());
}

std::unique_ptr<MainWindow> TestMainWindow::makeWindow(bool autoConnect)
{
    MainWindow::Options options;
    options.secrets = std::make_unique<storage::MemorySecretStore>();
    options.profilesIni = m_home.filePath(QStringLiteral("profiles.ini"));
    options.autoConnect = autoConnect;
    options.restoreLayout = false;
    auto window = std::make_unique<MainWindow>(std::move(options));
    window->resize(1400, 900);
    window->show();
    return window;
}

void TestMainWindow::init()
{
    m_window = makeWindow();
    QTRY_COMPARE_WITH_TIMEOUT(m_window->session()->state(), SessionState::Connected, kConnectTimeout);
    QVERIFY(m_window->localEmulator()->isRunning());
    // Quiet: only the traffic each test makes.
    m_window->localEmulator()->server()->setUpstreamRatePerSecond(0);
}

void TestMainWindow::cleanup()
{
    m_window.reset();
}

QString TestMainWindow::registeredToken() const
{
    for (const auto &d : m_window->localEmulator()->server()->devices()) {
        if (d.spec.kind == emulator::DeviceKind::Registered)
            return d.spec.token;
    }
    return {};
}

void TestMainWindow::composeAndSendUntilDelivered()
{
    QAbstractItemModelTester outboxTester(
        m_window->outbox()->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QAbstractItemModelTester trafficTester(
        m_window->traffic()->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    auto composer = m_window->composer();
    auto recipient = composer->findChild<QComboBox *>(QStringLiteral("recipientEdit"));
    auto data = composer->findChild<JsonEditor *>(QStringLiteral("dataEditor"));
    auto receipt = composer->findChild<QCheckBox *>(QStringLiteral("receiptCheck"));
    auto send = composer->findChild<QPushButton *>(QStringLiteral("sendButton"));
    QVERIFY(recipient && data && receipt && send);

    const QString token = registeredToken();
    QVERIFY(!token.isEmpty());
    recipient->setFocus();
    recipient->lineEdit()->selectAll();
    QTest::keyClicks(recipient->lineEdit(), token);
    data->clear();
    data->setFocus();
    QTest::keyClicks(data, QStringLiteral("{\"greeting\": \"hello from the test\"}"));
    if (!receipt->isChecked())
        QTest::mouseClick(receipt, Qt::LeftButton);
    QTRY_VERIFY(send->isEnabled());
    const QString id = composer->messageId();
    QVERIFY(!id.isEmpty());

    QTest::keyClick(data, Qt::Key_Return, Qt::ControlModifier); // Send (Ctrl+Return)
    QTRY_COMPARE(m_window->session()->ledger()->size(), 1);
    QCOMPARE(m_window->session()->ledger()->at(0).message.messageId, id);
    QVERIFY(composer->messageId() != id); // a fresh id for the next message

    auto model = m_window->outbox()->model();
    QTRY_COMPARE(model->rowCount(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(model->index(0, OutboxModel::StateColumn).data().toString(),
        QStringLiteral("Delivered"), kDeliveryTimeout);
    QVERIFY(!model->index(0, OutboxModel::AckColumn).data().toString().isEmpty());
    QVERIFY(!model->index(0, OutboxModel::DeliveryColumn).data().toString().isEmpty());
    QCOMPARE(model->index(0, OutboxModel::ToColumn).data().toString(), token);

    // The emulator saw it once, ACKed it, and its receipt was ACKed back.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const auto &r : m_window->localEmulator()->server()->downstreamRecord())
                if (r.messageId == id)
                    return r.timesReceived == 1 && r.verdict == QLatin1String("ack") && r.receiptAcked;
            return false;
        }(),
        kDeliveryTimeout);

    // The timeline has its marks, in order.
    const auto marks = m_window->timeline()->timeline()->marksForMessage(id);
    QList<MessageState> states;
    for (const auto &m : marks)
        states << m.state;
    QVERIFY2(states.contains(MessageState::Queued) && states.contains(MessageState::InFlight)
            && states.contains(MessageState::Acked) && states.contains(MessageState::Delivered),
        qPrintable(QString::number(states.size())));
    for (int i = 1; i < marks.size(); ++i)
        QVERIFY(marks[i].atMs >= marks[i - 1].atMs);
    m_window->showTab(MainWindow::TimelineTab);
    m_window->timeline()->updateLatencies();
    QVERIFY2(m_window->timeline()->latencyText().contains(QStringLiteral("p50")),
        qPrintable(m_window->timeline()->latencyText()));
    QVERIFY(!m_window->timeline()->timeline()->grab().isNull());

    // The detail pane tells its story; the traffic log holds the stanza, without the key.
    m_window->showTab(MainWindow::OutboxTab);
    m_window->outbox()->selectMessage(id);
    QTRY_VERIFY(m_window->outbox()->detailText().contains(QStringLiteral("Delivered")));
    QVERIFY(m_window->outbox()->detailText().contains(QStringLiteral("hello from the test")));
    auto traffic = m_window->traffic()->model();
    traffic->flush();
    bool stanzaLogged = false;
    const QString apiKey = m_window->localEmulator()->connectionSettings().apiKey;
    QVERIFY(!apiKey.isEmpty());
    for (int row = 0; row < traffic->rowCount(); ++row) {
        const QString xml = traffic->index(row, 0).data(TrafficLogModel::XmlRole).toString();
        stanzaLogged = stanzaLogged || xml.contains(id);
        QVERIFY2(!xml.contains(apiKey), "the API key reached the traffic log");
    }
    QVERIFY(stanzaLogged);
    m_window->showTab(MainWindow::TrafficTab);
    m_window->traffic()->view()->setCurrentIndex(
        m_window->traffic()->model()->index(m_window->traffic()->model()->rowCount() - 1, 0));
    saveLook(m_window.get(), QStringLiteral("traffic"));

    // Export both ways.
    QTemporaryDir dir;
    QString error;
    QVERIFY2(
        m_window->outbox()->exportTo(dir.filePath(QStringLiteral("o.jsonl")), &error), qPrintable(error));
    QVERIFY2(m_window->outbox()->exportTo(dir.filePath(QStringLiteral("o.csv")), &error), qPrintable(error));
    QFile jsonl(dir.filePath(QStringLiteral("o.jsonl")));
    QVERIFY(jsonl.open(QIODevice::ReadOnly));
    QVERIFY(jsonl.readAll().contains(id.toUtf8()));
}

void TestMainWindow::upstreamAppearsOnceAndIsAcked()
{
    QAbstractItemModelTester inboxTester(
        m_window->inbox()->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    auto server = m_window->localEmulator()->server();
    auto panel = m_window->emulatorPanel();
    const QString token = registeredToken();
    panel->selectToken(token);
    QCOMPARE(panel->selectedToken(), token);
    server->redeliverNextUpstream(); // CCS may deliver the same message twice
    auto button = panel->findChild<QPushButton *>(QStringLiteral("sendUpstreamButton"));
    QVERIFY(button && button->isEnabled());
    QTest::mouseClick(button, Qt::LeftButton);

    QString id;
    QTRY_VERIFY([&] {
        for (const auto &r : server->upstreamRecord())
            if (!r.isReceipt && r.from == token)
                id = r.messageId;
        return !id.isEmpty();
    }());
    auto model = m_window->inbox()->model();
    QTRY_VERIFY_WITH_TIMEOUT(model->rowForMessageId(id, token) >= 0, kDeliveryTimeout);
    // ACKed by the session, on the connection it came on.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const auto &r : server->upstreamRecord())
                if (r.messageId == id)
                    return r.acked && r.timesDelivered >= 2 && r.ackCount >= r.timesDelivered;
            return false;
        }(),
        kDeliveryTimeout);
    // Listed once however often it came, and counted.
    int rows = 0;
    for (int row = 0; row < model->rowCount(); ++row)
        rows += model->index(row, InboxModel::IdColumn).data().toString() == id;
    QCOMPARE(rows, 1);
    const int record = model->recordIndex(model->rowForMessageId(id, token));
    QTRY_COMPARE(model->timesSeen(record), 2);
    QVERIFY(model->ackedAtMs(record) > 0);
    QCOMPARE(model->message(record).from, token);

    // The detail pane pretty-prints it; the tab counts what arrived unseen.
    m_window->showTab(MainWindow::InboxTab);
    m_window->inbox()->view()->setCurrentIndex(model->index(model->rowForMessageId(id, token), 0));
    QTRY_VERIFY(m_window->inbox()->detailText().contains(QStringLiteral("\"message_id\": \"%1\"").arg(id)));
    QVERIFY(m_window->inbox()->detailText().contains(QStringLiteral("Seen")));
    saveLook(m_window.get(), QStringLiteral("inbox"));

    // Filter by device: a token no one uses hides it, clearing brings it back.
    auto search = m_window->inbox()->findChild<QLineEdit *>(QStringLiteral("inboxSearch"));
    QTest::keyClicks(search, QStringLiteral("no-such-text-anywhere"));
    QTRY_COMPARE(model->rowCount(), 0);
    search->clear();
    QTRY_VERIFY(model->rowCount() >= 1);
}

void TestMainWindow::invalidInputBlocksSending()
{
    auto composer = m_window->composer();
    auto data = composer->findChild<JsonEditor *>(QStringLiteral("dataEditor"));
    auto dataError = composer->findChild<QLabel *>(QStringLiteral("dataError"));
    auto send = composer->findChild<QPushButton *>(QStringLiteral("sendButton"));
    QVERIFY(data && dataError && send);
    auto recipient = composer->findChild<QComboBox *>(QStringLiteral("recipientEdit"));
    recipient->setEditText(registeredToken());

    data->clear();
    data->setFocus();
    QTest::keyClicks(data, QStringLiteral("{\"title\": \"unterminated"));
    QTRY_VERIFY(dataError->isVisible());
    QVERIFY2(dataError->text().contains(QStringLiteral("not valid JSON")), qPrintable(dataError->text()));
    QVERIFY(!send->isEnabled());
    QVERIFY(!data->marks().isEmpty());
    saveLook(m_window.get(), QStringLiteral("invalid-json"));
    QTest::keyClick(data, Qt::Key_Return, Qt::ControlModifier);
    QVERIFY(!composer->send());
    QTest::qWait(100);
    QCOMPARE(m_window->session()->ledger()->size(), 0); // nothing was sent

    // A reserved key is pointed at by its path, and underlined where it is.
    data->setPlainText(QStringLiteral("{\n  \"ok\": \"1\",\n  \"from\": \"me\"\n}"));
    QTRY_VERIFY(dataError->text().contains(QStringLiteral("data.from"))
        || dataError->text().contains(QStringLiteral("\"from\"")));
    QVERIFY(!send->isEnabled());
    QCOMPARE(data->marks().size(), 1);
    QCOMPARE(data->marks().first().position, data->toPlainText().indexOf(QStringLiteral("\"from\"")));
    saveLook(composer, QStringLiteral("reserved-key"));

    // An out-of-range time to live is shown under the options.
    data->setPlainText(QStringLiteral("{\"ok\": \"1\"}"));
    auto unit = composer->findChild<QComboBox *>(QStringLiteral("ttlUnitCombo"));
    auto ttl = composer->findChild<QSpinBox *>(QStringLiteral("ttlSpin"));
    unit->setCurrentIndex(unit->findText(QStringLiteral("weeks")));
    ttl->setValue(5);
    auto optionsError = composer->findChild<QLabel *>(QStringLiteral("optionsError"));
    QTRY_VERIFY(optionsError->isVisible());
    QVERIFY2(optionsError->text().contains(QStringLiteral("time_to_live")), qPrintable(optionsError->text()));
    QVERIFY(!send->isEnabled());

    // Fixed: the errors go away and Send comes back.
    ttl->setValue(4);
    QTRY_VERIFY(send->isEnabled());
    QVERIFY(!dataError->isVisible() && !optionsError->isVisible());
    QCOMPARE(m_window->session()->ledger()->size(), 0);
}

void TestMainWindow::sendCopiesWithProgressAndCancel()
{
    auto composer = m_window->composer();
    composer->findChild<QComboBox *>(QStringLiteral("recipientEdit"))->setEditText(registeredToken());
    auto copies = composer->findChild<QSpinBox *>(QStringLiteral("copiesSpin"));
    auto sendCopies = composer->findChild<QPushButton *>(QStringLiteral("sendCopiesButton"));
    QVERIFY(copies && sendCopies);
    copies->setValue(30);
    QTRY_VERIFY(sendCopies->isEnabled());
    QSignalSpy finished(composer, &ComposerPanel::copiesFinished);
    QTest::mouseClick(sendCopies, Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kDeliveryTimeout);
    QCOMPARE(finished.first().at(0).toInt(), 30); // answered
    QCOMPARE(finished.first().at(1).toInt(), 0); // cancelled
    QCOMPARE(m_window->session()->ledger()->size(), 30);

    // Offline, the copies wait in the queue: Cancel withdraws them all.
    m_window->disconnectSession();
    QTRY_COMPARE(m_window->session()->state(), SessionState::Disconnected);
    copies->setValue(40);
    QTest::mouseClick(sendCopies, Qt::LeftButton);
    QTRY_COMPARE(m_window->session()->queueLength(), 40);
    QTest::mouseClick(
        composer->findChild<QPushButton *>(QStringLiteral("cancelCopiesButton")), Qt::LeftButton);
    QTRY_COMPARE(finished.count(), 2);
    QCOMPARE(finished.last().at(1).toInt(), 40);
    QCOMPARE(m_window->session()->ledger()->count(MessageState::Cancelled), 40);
    QCOMPARE(m_window->session()->queueLength(), 0);
}

void TestMainWindow::keychainFallbackKeepsKeyForSession()
{
    m_window.reset();
    test::TestEmulator emulator;
    QVERIFY2(emulator.isRunning(), qPrintable(emulator.error()));

    // The window's store as the application builds it, over a keychain that does not answer.
    auto keychain = std::make_unique<storage::MemorySecretStore>();
    keychain->setSimulateUnavailable(true);
    MainWindow::Options options;
    options.secrets = std::make_unique<storage::FallbackSecretStore>(std::move(keychain));
    options.profilesIni = m_home.filePath(QStringLiteral("fallback.ini"));
    options.autoConnect = false;
    options.restoreLayout = false;
    MainWindow window(std::move(options));
    window.show();

    ProfileDialog dialog(window.profiles(), window.secrets(), &window);
    dialog.show();
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("newProfileButton")), Qt::LeftButton);
    auto setText = [&](const char *name, const QString &text) {
        auto edit = dialog.findChild<QLineEdit *>(QString::fromLatin1(name));
        QVERIFY2(edit, name);
        edit->clear();
        QTest::keyClicks(edit, text);
    };
    setText("profileName", QStringLiteral("Test emulator"));
    setText("profileHost", QStringLiteral("127.0.0.1"));
    dialog.findChild<QSpinBox *>(QStringLiteral("profilePort"))->setValue(emulator.port());
    setText("profileDomain", QString::fromLatin1(kGcmDomain));
    setText("profileSenderId", QString::fromLatin1(test::TestEmulator::kSenderId));
    setText("profileApiKey", QString::fromLatin1(test::TestEmulator::kApiKey));
    dialog.findChild<QRadioButton *>()->setChecked(false);
    for (auto radio : dialog.findChildren<QRadioButton *>())
        if (radio->text().contains(QStringLiteral("pinned")))
            radio->setChecked(true);
    setText("profileCertificate", emulator.certificatePemPath());
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("saveProfileButton")), Qt::LeftButton);

    // Said inline, in the dialog and in the window.
    QTRY_VERIFY2(dialog.banner()->text().startsWith(QStringLiteral("Saved \"Test emulator\"."))
            && dialog.banner()->text().contains(QStringLiteral("session only")),
        qPrintable(dialog.banner()->text()));
    QTRY_VERIFY(dialog.findChild<QLineEdit *>(QStringLiteral("profileApiKey"))
                    ->placeholderText()
                    .contains(QStringLiteral("session")));
    QCOMPARE(dialog.banner()->kind(), MessageBanner::Kind::Warning);
    saveLook(&dialog, QStringLiteral("profile-dialog"));
    QTRY_VERIFY(window.banner()->text().contains(QStringLiteral("kept for this session only")));
    // The key is in no file and not shown again.
    QVERIFY(dialog.findChild<QLineEdit *>(QStringLiteral("profileApiKey"))->text().isEmpty());
    QFile ini(m_home.filePath(QStringLiteral("fallback.ini")));
    QVERIFY(ini.open(QIODevice::ReadOnly));
    const QByteArray settingsText = ini.readAll();
    QVERIFY(settingsText.contains("Test emulator"));
    QVERIFY(!settingsText.contains(test::TestEmulator::kApiKey));
    dialog.close();

    // The session-only key connects for this session.
    window.connectProfile(QStringLiteral("Test emulator"));
    QTRY_COMPARE_WITH_TIMEOUT(window.session()->state(), SessionState::Connected, kConnectTimeout);
    QVERIFY(!window.localEmulator()->isRunning());

    // A profile without any key says so instead of trying.
    storage::Profile other = *window.profiles()->profile(QStringLiteral("Test emulator"));
    other.name = QStringLiteral("No key");
    QVERIFY(window.profiles()->save(other));
    window.disconnectSession();
    window.connectProfile(QStringLiteral("No key"));
    QTRY_VERIFY(window.banner()->text().contains(QStringLiteral("API key")));
    QCOMPARE(window.session()->state(), SessionState::Disconnected);
}

void TestMainWindow::layoutAndLastProfilePersist()
{
    m_window.reset();
    auto options = [&] {
        MainWindow::Options o;
        o.secrets = std::make_unique<storage::MemorySecretStore>();
        o.profilesIni = m_home.filePath(QStringLiteral("persist.ini"));
        o.autoConnect = false;
        o.restoreLayout = true;
        return o;
    };
    QList<int> sizes;
    {
        MainWindow first(options());
        first.resize(1300, 820);
        first.show();
        QVERIFY(QTest::qWaitForWindowExposed(&first));
        auto combo = first.findChild<QComboBox *>(QStringLiteral("profileCombo"));
        combo->setCurrentIndex(combo->findText(QStringLiteral("GCM production")));
        Q_EMIT combo->activated(combo->currentIndex());
        QCOMPARE(first.currentProfile(), QStringLiteral("GCM production"));
        auto splitter = first.findChild<QSplitter *>(QStringLiteral("mainSplitter"));
        QVERIFY(splitter);
        splitter->setSizes({300, 900, 0}); // the emulator panel is hidden for this profile
        sizes = splitter->sizes();
        first.showTab(MainWindow::TimelineTab);
        first.close();
    }
    MainWindow second(options());
    second.show();
    QVERIFY(QTest::qWaitForWindowExposed(&second));
    QCOMPARE(second.currentProfile(), QStringLiteral("GCM production"));
    QCOMPARE(second.findChild<QComboBox *>(QStringLiteral("profileCombo"))->currentText(),
        QStringLiteral("GCM production"));
    // The composer keeps its width; the tabs take the rest (give or take the hidden panel's handle).
    const QList<int> restored = second.findChild<QSplitter *>(QStringLiteral("mainSplitter"))->sizes();
    QCOMPARE(restored.first(), sizes.first());
    QVERIFY2(qAbs(restored.at(1) - sizes.at(1)) <= 8,
        qPrintable(QStringLiteral("%1 vs %2").arg(restored.at(1)).arg(sizes.at(1))));
    QCOMPARE(second.findChild<QTabWidget *>(QStringLiteral("mainTabs"))->currentIndex(),
        int(MainWindow::TimelineTab));
    QCOMPARE(second.size(), QSize(1300, 820));
    // Not the local emulator: no emulator panel, nothing started.
    QVERIFY(!second.emulatorPanel()->isVisible());
    QVERIFY(!second.localEmulator()->isRunning());
}

int main(int argc, char *argv[])
{
    // A desktop screen: the window is tested at the sizes people use it.
    const QString screens = test::useOffscreenScreens({QRect(0, 0, 1920, 1080)});
    QApplication app(argc, argv);
    QFile::remove(screens);
    TestMainWindow test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}
#include "tst_mainwindow.moc"
