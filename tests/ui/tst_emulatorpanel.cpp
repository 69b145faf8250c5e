// The emulator panel drives the emulator's devices the way the guide's CCS
// would see them: upstream messages with the device's own id (explicit id,
// category, data, time_to_live through the dialog), Sleep/Wake holding and
// delivering messages, and topic subscriptions. Real widgets on a real
// emulator; the inbox shows two devices' messages with one id as two rows.
#include "TestEmulator.h"
#include "emulator/DeviceModel.h"
#include "emulator/EmulatorPanel.h"
#include "emulator/UpstreamDialog.h"
#include "inbox/InboxModel.h"

#include <QDialogButtonBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>
#include <QTimer>

using namespace ccs;
using namespace ccs::test;
using namespace ccs::ui;

class TestEmulatorPanel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void upstreamDialogSendsExplicitFields();
    void upstreamDialogRefusesBadJson();
    void sleepHoldsAndWakeDelivers();
    void topicsFromThePanel();
    void inboxKeepsTwoDevicesWithOneId();
};

void TestEmulatorPanel::upstreamDialogSendsExplicitFields()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    EmulatorPanel panel;
    panel.setServer(emu.server());
    panel.selectToken(QStringLiteral("dev-2"));
    QCOMPARE(panel.selectedToken(), QStringLiteral("dev-2"));
    QSignalSpy notices(&panel, &EmulatorPanel::notice);
    auto compose = panel.findChild<QPushButton *>(QStringLiteral("composeUpstreamButton"));
    QVERIFY(compose && compose->isEnabled());
    // The dialog is modal: fill it in once it shows, as a person would.
    bool filled = false;
    QTimer::singleShot(0, this, [&] {
        auto dialog = panel.findChild<UpstreamDialog *>();
        if (!dialog)
            return;
        QTest::keyClicks(dialog->messageIdEdit(), QStringLiteral("1"));
        dialog->dataEdit()->setPlainText(QStringLiteral(R"({"question": "ping?"})"));
        dialog->timeToLiveSpin()->setValue(120);
        QVERIFY(dialog->errorText().isEmpty());
        filled = true;
        dialog->accept();
    });
    QTest::mouseClick(compose, Qt::LeftButton);
    QVERIFY(filled);
    bool found = false;
    for (const auto &r : emu.server()->upstreamRecord())
        found = found || (r.from == QLatin1String("dev-2") && r.messageId == QLatin1String("1"));
    QVERIFY(found);
    QVERIFY(!notices.isEmpty());
    QVERIFY(notices.last().at(0).toString().contains(QStringLiteral("upstream message 1")));
}

void TestEmulatorPanel::upstreamDialogRefusesBadJson()
{
    UpstreamDialog dialog(QStringLiteral("Test phone"), QStringLiteral("com.example"));
    auto ok = dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
    QVERIFY(ok->isEnabled());
    dialog.dataEdit()->setPlainText(QStringLiteral(R"({"a": 1,})"));
    QVERIFY(!ok->isEnabled());
    QVERIFY2(dialog.errorText().contains(QStringLiteral("JSON")), qPrintable(dialog.errorText()));
    dialog.dataEdit()->setPlainText(QStringLiteral(R"({"a": 1})"));
    QVERIFY(ok->isEnabled());
    QCOMPARE(dialog.request().data.value(QStringLiteral("a")).toInt(), 1);
    QCOMPARE(dialog.request().timeToLive, -1); // default: not sent
}

void TestEmulatorPanel::sleepHoldsAndWakeDelivers()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    EmulatorPanel panel;
    panel.setServer(emu.server());
    panel.selectToken(QStringLiteral("dev-1"));
    auto wake = panel.findChild<QPushButton *>(QStringLiteral("wakeButton"));
    QVERIFY(wake);
    QCOMPARE(wake->text(), QStringLiteral("Sleep"));
    QTest::mouseClick(wake, Qt::LeftButton);
    QTRY_COMPARE(wake->text(), QStringLiteral("Wake"));
    bool offline = false;
    for (const auto &d : emu.server()->devices())
        offline = offline || (d.spec.token == QLatin1String("dev-1") && !d.online);
    QVERIFY(offline);
    const QModelIndex state = panel.model()->index(0, DeviceModel::StateColumn);
    QCOMPARE(state.data(DeviceModel::TokenRole).toString(), QStringLiteral("dev-1"));
    QVERIFY2(
        state.data().toString().contains(QStringLiteral("offline")), qPrintable(state.data().toString()));
    QTest::mouseClick(wake, Qt::LeftButton);
    QTRY_COMPARE(wake->text(), QStringLiteral("Sleep"));
}

void TestEmulatorPanel::topicsFromThePanel()
{
    TestEmulator emu;
    QVERIFY(emu.isRunning());
    EmulatorPanel panel;
    panel.setServer(emu.server());
    panel.selectToken(QStringLiteral("dev-3"));
    auto topics = panel.findChild<QLineEdit *>(QStringLiteral("deviceTopicsEdit"));
    QVERIFY(topics && topics->isEnabled());
    topics->setFocus();
    topics->clear();
    QTest::keyClicks(topics, QStringLiteral("news, /topics/sport"));
    QTest::keyClick(topics, Qt::Key_Return);
    auto topicsOf = [&] {
        for (const auto &d : emu.server()->devices()) {
            if (d.spec.token == QLatin1String("dev-3"))
                return d.topics;
        }
        return QStringList();
    };
    QCOMPARE(topicsOf(), (QStringList {"news", "sport"}));
    QVERIFY(!panel.setSelectedTopics(QStringLiteral("news bad!topic")));
    QCOMPARE(topicsOf(), (QStringList {"news"}));
}

void TestEmulatorPanel::inboxKeepsTwoDevicesWithOneId()
{
    InboxModel model;
    UpstreamMessage a;
    a.from = QStringLiteral("dev-1");
    a.messageId = QStringLiteral("1");
    a.category = QStringLiteral("c");
    UpstreamMessage b = a;
    b.from = QStringLiteral("dev-2");
    model.append(a, 1, 10, 11);
    model.append(b, 1, 12, 13);
    model.flush();
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.rowForMessageId(QStringLiteral("1"), QStringLiteral("dev-1")), 0);
    QCOMPARE(model.rowForMessageId(QStringLiteral("1"), QStringLiteral("dev-2")), 1);
    QVERIFY(model.markDuplicate(QStringLiteral("dev-2"), QStringLiteral("1"), 2));
    QCOMPARE(model.timesSeen(1), 2);
    QCOMPARE(model.timesSeen(0), 1);
}

QTEST_MAIN(TestEmulatorPanel)
#include "tst_emulatorpanel.moc"
