// The emulator console driven through its widgets, attached over loopback to
// an emulator's admin API (as to a running ccs-emulator): the token goes to
// the keychain and never to settings, each connection and its traffic show
// live with answers and ACK latency, the device and fault controls act on
// the emulator through the admin API, and the conformance scorecard fills in
// as rules settle.
#include "RawCcsClient.h"
#include "TestEmulator.h"
#include "console/AdminClient.h"
#include "console/ConsoleModels.h"
#include "console/EmulatorConsole.h"
#include "emulator/DeviceModel.h"
#include "emulator/UpstreamDialog.h"
#include "server/EmulatorAdminApi.h"
#include "server/EmulatorEventStream_p.h"
#include "server/conformance/ConformanceGrader.h"
#include "storage/SecretStore.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>

using namespace ccs;
using namespace ccs::test;

namespace {
QString cell(QAbstractItemModel *model, int row, int column)
{
    return model->index(row, column).data().toString();
}

int findRow(QAbstractItemModel *model, int column, const QString &text)
{
    for (int row = 0; row < model->rowCount(); ++row) {
        if (cell(model, row, column) == text)
            return row;
    }
    return -1;
}

QJsonObject downstream(const QString &id)
{
    return {{QStringLiteral("to"), QStringLiteral("dev-1")}, {QStringLiteral("message_id"), id},
        {QStringLiteral("data"), QJsonObject {{QStringLiteral("k"), id}}}};
}

emulator::DeviceStatus device(emulator::EmulatorServer *server, const QString &token)
{
    for (const emulator::DeviceStatus &d : server->devices()) {
        if (d.spec.token == token)
            return d;
    }
    return {};
}
} // namespace

class TestConsole : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();
    void attachesWithTokenFromKeychainNeverSettings();
    void wrongTokenIsRefused();
    void trafficBothDirectionsWithAnswersAndLatency();
    void devicesAndFaultsDriveTheEmulator();
    void scorecardFillsInAsRulesSettle();

private:
    void attach();

    std::unique_ptr<TestEmulator> m_emu;
    std::unique_ptr<emulator::ConformanceGrader> m_grader;
    std::unique_ptr<emulator::EmulatorAdminApi> m_api;
    std::unique_ptr<storage::MemorySecretStore> m_secrets;
    std::unique_ptr<ui::EmulatorConsole> m_console;
};

void TestConsole::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("ccs-admin-test-console"));
}

void TestConsole::init()
{
    QSettings().clear();
    emulator::EmulatorConfig config = TestEmulator::defaultConfig();
    config.upstreamRatePerSecond = 0;
    m_emu = std::make_unique<TestEmulator>(config);
    QVERIFY(m_emu->isRunning());
    m_api = std::make_unique<emulator::EmulatorAdminApi>(m_emu->server());
    m_grader = std::make_unique<emulator::ConformanceGrader>(m_emu->server());
    m_api->setConformanceGrader(m_grader.get());
    QString error;
    QVERIFY2(m_api->listen(QHostAddress::LocalHost, 0, &error), qPrintable(error));
    m_secrets = std::make_unique<storage::MemorySecretStore>();
    m_console = std::make_unique<ui::EmulatorConsole>(m_secrets.get());
    m_console->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_console.get()));
}

void TestConsole::cleanup()
{
    m_console.reset();
    m_api.reset();
    m_grader.reset();
    m_emu.reset();
    m_secrets.reset();
}

void TestConsole::attach()
{
    auto *source = m_console->findChild<QComboBox *>(QStringLiteral("consoleSource"));
    auto *url = m_console->findChild<QLineEdit *>(QStringLiteral("consoleUrl"));
    auto *token = m_console->findChild<QLineEdit *>(QStringLiteral("consoleToken"));
    auto *button = m_console->findChild<QPushButton *>(QStringLiteral("consoleAttach"));
    QVERIFY(source && url && token && button);
    source->setCurrentIndex(1);
    url->clear();
    QTest::keyClicks(url, m_api->baseUrl());
    token->clear();
    QTest::keyClicks(token, m_api->token());
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(m_console->client()->isAttached(), 20000);
    QTRY_COMPARE_WITH_TIMEOUT(m_console->deviceModel()->rowCount(), 6, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(m_api->eventStream()->clientCount(), 1, 20000);
}

void TestConsole::attachesWithTokenFromKeychainNeverSettings()
{
    attach();
    auto *token = m_console->findChild<QLineEdit *>(QStringLiteral("consoleToken"));
    QTRY_VERIFY(token->text().isEmpty()); // never shown again
    QVERIFY(m_console->statusText().contains(QStringLiteral("Attached")));
    // The keychain holds it; the settings hold the URL only.
    QString stored;
    m_secrets->readKey(QStringLiteral("ccs-emulator admin %1").arg(m_api->baseUrl()), this,
        [&stored](const storage::SecretResult &r) { stored = r.secret; });
    QTRY_COMPARE(stored, m_api->token());
    QSettings settings;
    settings.sync();
    QCOMPARE(settings.value(QStringLiteral("console/adminUrl")).toString(), m_api->baseUrl());
    for (const QString &key : settings.allKeys())
        QVERIFY(!settings.value(key).toString().contains(m_api->token()));
    QFile ini(settings.fileName());
    if (ini.open(QIODevice::ReadOnly))
        QVERIFY(!ini.readAll().contains(m_api->token().toLatin1()));

    // Detach, then attach again with the saved token: the field stays empty.
    auto *button = m_console->findChild<QPushButton *>(QStringLiteral("consoleAttach"));
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY(!m_console->client()->isAttached());
    QTRY_COMPARE_WITH_TIMEOUT(m_api->eventStream()->clientCount(), 0, 20000);
    ui::EmulatorConsole second(m_secrets.get());
    second.show();
    auto *secondToken = second.findChild<QLineEdit *>(QStringLiteral("consoleToken"));
    QTRY_COMPARE(secondToken->placeholderText(), QStringLiteral("token saved in the keychain"));
    QCOMPARE(second.findChild<QLineEdit *>(QStringLiteral("consoleUrl"))->text(), m_api->baseUrl());
    QTest::mouseClick(second.findChild<QPushButton *>(QStringLiteral("consoleAttach")), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(second.client()->isAttached(), 20000);
}

void TestConsole::wrongTokenIsRefused()
{
    auto *url = m_console->findChild<QLineEdit *>(QStringLiteral("consoleUrl"));
    auto *token = m_console->findChild<QLineEdit *>(QStringLiteral("consoleToken"));
    m_console->findChild<QComboBox *>(QStringLiteral("consoleSource"))->setCurrentIndex(1);
    QTest::keyClicks(url, m_api->baseUrl());
    QTest::keyClicks(token, QStringLiteral("wrong-token-0123456789"));
    QTest::mouseClick(m_console->findChild<QPushButton *>(QStringLiteral("consoleAttach")), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(m_console->noticeText().contains(QStringLiteral("refused the token")), 20000);
    QVERIFY(!m_console->client()->isAttached());
    QCOMPARE(m_api->eventStream()->clientCount(), 0);
    // A refused token is not kept.
    bool found = true;
    m_secrets->readKey(QStringLiteral("ccs-emulator admin %1").arg(m_api->baseUrl()), this,
        [&found](const storage::SecretResult &r) { found = r.ok(); });
    QTRY_VERIFY(!found);
}

void TestConsole::trafficBothDirectionsWithAnswersAndLatency()
{
    attach();
    RawCcsClient client;
    QString error;
    QVERIFY2(client.loginTo(*m_emu, &error), qPrintable(error));
    for (int i = 0; i < 5; ++i)
        client.sendJson(downstream(QStringLiteral("console-%1").arg(i)));

    auto *connections = m_console->connectionModel();
    auto *traffic = m_console->trafficModel();
    QTRY_COMPARE_WITH_TIMEOUT(connections->rowCount(), 1, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(cell(connections, 0, ui::ConsoleConnectionModel::StateColumn), QStringLiteral("bound"),
        20000);
    QTRY_COMPARE_WITH_TIMEOUT(
        cell(connections, 0, ui::ConsoleConnectionModel::DownstreamColumn), QStringLiteral("5 / 5"), 20000);
    const int row = findRow(traffic, ui::ConsoleTrafficModel::MessageIdColumn, QStringLiteral("console-3"));
    QVERIFY(row >= 0);
    QCOMPARE(cell(traffic, row, ui::ConsoleTrafficModel::AnswerColumn), QStringLiteral("ACK"));
    QVERIFY(cell(traffic, row, ui::ConsoleTrafficModel::LatencyColumn).endsWith(QStringLiteral("ms")));
    QVERIFY(cell(traffic, row, ui::ConsoleTrafficModel::DirectionColumn).contains(QStringLiteral("downstream")));

    // Upstream, composed in the console's dialog, ACKed by the app server.
    auto *devices = m_console->findChild<QTableView *>(QStringLiteral("consoleDevices"));
    m_console->selectToken(QStringLiteral("dev-1"));
    QCOMPARE(m_console->selectedToken(), QStringLiteral("dev-1"));
    QVERIFY(devices);
    QTest::mouseClick(m_console->findChild<QPushButton *>(QStringLiteral("consoleUpstream")), Qt::LeftButton);
    ui::UpstreamDialog *dialog = nullptr;
    QTRY_VERIFY((dialog = m_console->findChild<ui::UpstreamDialog *>()) != nullptr);
    dialog->messageIdEdit()->setText(QStringLiteral("up-from-console"));
    dialog->dataEdit()->setPlainText(QStringLiteral("{\"temperature\": \"21\"}"));
    dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok)->click();
    QVERIFY(client.waitFor([&] {
        for (const QJsonObject &m : client.gcmMessages()) {
            if (m.value("message_id").toString() == QStringLiteral("up-from-console"))
                return m.value("data").toObject().value("temperature").toString() == QStringLiteral("21");
        }
        return false;
    }));
    QTRY_VERIFY_WITH_TIMEOUT(
        findRow(traffic, ui::ConsoleTrafficModel::MessageIdColumn, QStringLiteral("up-from-console")) >= 0, 20000);
    const int up = findRow(traffic, ui::ConsoleTrafficModel::MessageIdColumn, QStringLiteral("up-from-console"));
    QCOMPARE(cell(traffic, up, ui::ConsoleTrafficModel::DeviceColumn), QStringLiteral("dev-1"));
    QCOMPARE(cell(traffic, up, ui::ConsoleTrafficModel::AnswerColumn), QStringLiteral("waiting for the ACK"));
    client.ack(QStringLiteral("dev-1"), QStringLiteral("up-from-console"));
    QTRY_COMPARE_WITH_TIMEOUT(cell(traffic, up, ui::ConsoleTrafficModel::AnswerColumn), QStringLiteral("ACKed"), 20000);
    QVERIFY(cell(traffic, up, ui::ConsoleTrafficModel::LatencyColumn).endsWith(QStringLiteral("ms")));
    // (The grader's scenario has devices send upstream messages too; one of them was ACKed.)
    QTRY_VERIFY_WITH_TIMEOUT(
        cell(connections, 0, ui::ConsoleConnectionModel::UpstreamColumn).endsWith(QStringLiteral(" / 1")), 20000);

    // Picking the connection filters the traffic to it; another connection's rows go.
    RawCcsClient other;
    QVERIFY2(other.loginTo(*m_emu, &error), qPrintable(error));
    other.sendJson(downstream(QStringLiteral("other-1")));
    QTRY_COMPARE_WITH_TIMEOUT(connections->rowCount(), 2, 20000);
    auto *trafficView = m_console->findChild<QTableView *>(QStringLiteral("consoleTraffic"));
    QTRY_VERIFY_WITH_TIMEOUT(
        findRow(trafficView->model(), ui::ConsoleTrafficModel::MessageIdColumn, QStringLiteral("other-1")) >= 0,
        20000);
    auto *connectionView = m_console->findChild<QTableView *>(QStringLiteral("consoleConnections"));
    connectionView->setCurrentIndex(connections->index(0, 0));
    QCOMPARE(findRow(trafficView->model(), ui::ConsoleTrafficModel::MessageIdColumn, QStringLiteral("other-1")), -1);
    QVERIFY(findRow(trafficView->model(), ui::ConsoleTrafficModel::MessageIdColumn, QStringLiteral("console-3")) >= 0);

    client.closeStream();
    QTRY_VERIFY_WITH_TIMEOUT(
        cell(connections, 0, ui::ConsoleConnectionModel::StateColumn).startsWith(QStringLiteral("closed")), 20000);
}

void TestConsole::devicesAndFaultsDriveTheEmulator()
{
    attach();
    auto *server = m_emu->server();
    m_console->selectToken(QStringLiteral("dev-1"));
    auto *wake = m_console->findChild<QPushButton *>(QStringLiteral("consoleWake"));
    QCOMPARE(wake->text(), QStringLiteral("&Sleep"));
    QTest::mouseClick(wake, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!device(server, QStringLiteral("dev-1")).online, 20000);
    QTRY_COMPARE_WITH_TIMEOUT(wake->text(), QStringLiteral("&Wake"), 20000);
    QTest::mouseClick(wake, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(device(server, QStringLiteral("dev-1")).online, 20000);

    auto *topics = m_console->findChild<QLineEdit *>(QStringLiteral("consoleTopics"));
    topics->setFocus();
    topics->clear();
    QTest::keyClicks(topics, QStringLiteral("news, sport"));
    QTest::keyClick(topics, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(
        device(server, QStringLiteral("dev-1")).topics, (QStringList {"news", "sport"}), 20000);

    m_console->selectToken(QStringLiteral("dev-2"));
    QTest::mouseClick(m_console->findChild<QPushButton *>(QStringLiteral("consoleUnregister")), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(
        device(server, QStringLiteral("dev-2")).spec.kind, emulator::DeviceKind::Unregistered, 20000);
    // A message to it now gets DEVICE_UNREGISTERED.
    RawCcsClient client;
    QString error;
    QVERIFY2(client.loginTo(*m_emu, &error), qPrintable(error));
    client.sendJson({{"to", "dev-2"}, {"message_id", "to-unregistered"}, {"data", QJsonObject {}}});
    QVERIFY(client.waitFor([&] {
        for (const QJsonObject &m : client.gcmMessages()) {
            if (m.value("message_id").toString() == QStringLiteral("to-unregistered"))
                return m.value("error").toString() == QStringLiteral("DEVICE_UNREGISTERED");
        }
        return false;
    }));
    QTRY_VERIFY_WITH_TIMEOUT(findRow(m_console->trafficModel(), ui::ConsoleTrafficModel::AnswerColumn,
                                 QStringLiteral("NACK DEVICE_UNREGISTERED"))
            >= 0,
        20000);

    auto *share = m_console->findChild<QDoubleSpinBox *>(QStringLiteral("consoleNackShare"));
    share->setValue(0.25);
    QTest::mouseClick(m_console->findChild<QPushButton *>(QStringLiteral("consoleApplyFaults")), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(server->faults().nackShare, 0.25, 20000);
    // A change made elsewhere shows up in the form through the event stream.
    emulator::FaultSchedule f = server->faults();
    f.nackShare = 0.5;
    server->setFaults(f);
    QTRY_COMPARE_WITH_TIMEOUT(share->value(), 0.5, 20000);
    QTest::mouseClick(m_console->findChild<QPushButton *>(QStringLiteral("consoleDropAll")), Qt::LeftButton);
    QVERIFY(client.waitForDisconnected());
}

void TestConsole::scorecardFillsInAsRulesSettle()
{
    attach();
    auto *rules = m_console->ruleModel();
    QTRY_COMPARE_WITH_TIMEOUT(rules->rowCount(), int(emulator::ConformanceGrader::RuleCount), 20000);
    QCOMPARE(rules->status(QStringLiteral("tls-plain")), QString()); // not settled yet
    const int row = findRow(rules, ui::ConsoleRuleModel::RuleColumn, QStringLiteral("tls-plain"));
    QCOMPARE(cell(rules, row, ui::ConsoleRuleModel::StatusColumn), QStringLiteral("grading…"));
    RawCcsClient client;
    QString error;
    QVERIFY2(client.loginTo(*m_emu, &error), qPrintable(error));
    QTRY_COMPARE_WITH_TIMEOUT(rules->status(QStringLiteral("tls-plain")), QStringLiteral("pass"), 20000);
    QCOMPARE(cell(rules, row, ui::ConsoleRuleModel::StatusColumn), QStringLiteral("PASS"));
    QVERIFY(cell(rules, row, ui::ConsoleRuleModel::SummaryColumn).contains(QStringLiteral("SASL PLAIN")));
    // The run ends: the rest settle, here as not exercised (one login exercises little).
    m_grader->finish();
    QTRY_COMPARE_WITH_TIMEOUT(rules->status(QStringLiteral("window")), QStringLiteral("not_exercised"), 20000);
    const int window = findRow(rules, ui::ConsoleRuleModel::RuleColumn, QStringLiteral("window"));
    QCOMPARE(cell(rules, window, ui::ConsoleRuleModel::StatusColumn), QStringLiteral("NOT EXERCISED"));
    for (int r = 0; r < rules->rowCount(); ++r)
        QTRY_VERIFY(cell(rules, r, ui::ConsoleRuleModel::StatusColumn) != QStringLiteral("grading…"));
}

QTEST_MAIN(TestConsole)
#include "tst_console.moc"
