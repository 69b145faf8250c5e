// The window as a first-time user and a laptop user meet it: on a 1366×768
// screen it fits, a geometry restored from a bigger desk comes back on screen,
// the first Send works without typing, validation waits for the user, the
// timeline shows what happened, banners move nothing, and a whole session runs
// from the keyboard with every control named for assistive technology.
#include "OffscreenScreens.h"
#include "common/MessageBanner.h"
#include "composer/ComposerPanel.h"
#include "composer/JsonEditor.h"
#include "connection/ConnectionBar.h"
#include "connection/ProfileDialog.h"
#include "emulator/EmulatorPanel.h"
#include "emulator/LocalEmulator.h"
#include "inbox/InboxModel.h"
#include "inbox/InboxPage.h"
#include "mainwindow/MainWindow.h"
#include "mainwindow/WindowPlacement.h"
#include "outbox/OutboxModel.h"
#include "outbox/OutboxPage.h"
#include "timeline/ReceiptTimeline.h"
#include "timeline/TimelinePage.h"

#include <QAbstractItemView>
#include <QAbstractSpinBox>
#include <QAccessible>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QToolButton>

using namespace ccs;
using namespace ccs::ui;

namespace {
constexpr int kConnectTimeout = 20000;
constexpr int kDeliveryTimeout = 15000;
const QRect kLaptop(0, 0, 1366, 768);

QRect globalRect(const QWidget *w)
{
    return QRect(w->mapToGlobal(QPoint(0, 0)), w->size());
}

QString describe(const QWidget *w)
{
    return QStringLiteral("%1 \"%2\" (%3)")
        .arg(QString::fromLatin1(w->metaObject()->className()), w->objectName(),
            w->parentWidget() ? w->parentWidget()->objectName() : QString());
}

// Interactive roles that a screen reader announces by name.
bool isInteractive(QAccessible::Role role)
{
    switch (role) {
    case QAccessible::PushButton:
    case QAccessible::CheckBox:
    case QAccessible::RadioButton:
    case QAccessible::ComboBox:
    case QAccessible::EditableText:
    case QAccessible::SpinBox:
    case QAccessible::Slider:
    case QAccessible::ButtonMenu:
    case QAccessible::ButtonDropDown:
    case QAccessible::PageTab:
    case QAccessible::Table:
    case QAccessible::List:
    case QAccessible::Tree:
    case QAccessible::ProgressBar:
        return true;
    default:
        return false;
    }
}

// Walks the accessibility tree under `root`; the unnamed interactive controls that show.
void findUnnamed(QAccessibleInterface *iface, QStringList *unnamed, int depth = 0)
{
    if (!iface || !iface->isValid() || depth > 40)
        return;
    if (iface->state().invisible || iface->state().offscreen)
        return;
    const QAccessible::Role role = iface->role();
    if (isInteractive(role) && iface->text(QAccessible::Name).trimmed().isEmpty()) {
        QWidget *w = qobject_cast<QWidget *>(iface->object());
        *unnamed << (w ? describe(w) : QStringLiteral("role %1 under %2").arg(int(role)).arg(depth));
    }
    // Cells and list entries are data, not controls.
    if (role == QAccessible::Table || role == QAccessible::List || role == QAccessible::Tree
        || role == QAccessible::ComboBox)
        return;
    for (int i = 0; i < iface->childCount(); ++i)
        findUnnamed(iface->child(i), unnamed, depth + 1);
}

// The focus chain from `start`, as Tab walks it (at most `limit` steps, until it comes back).
QList<QWidget *> tabChain(QWidget *window, QWidget *start, int limit = 150)
{
    QList<QWidget *> chain;
    start->setFocus(Qt::TabFocusReason);
    if (!QTest::qWaitFor([&] { return QApplication::focusWidget() == start; }, 2000))
        return chain;
    chain << start;
    for (int i = 0; i < limit; ++i) {
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_Tab);
        QWidget *now = QApplication::focusWidget();
        if (!now || now == start || now->window() != window)
            break;
        if (!chain.isEmpty() && chain.last() == now)
            break; // stuck
        chain << now;
    }
    return chain;
}

// Reading order within a column: rows top to bottom, left to right within a row.
QString readingOrderProblem(const QList<QWidget *> &widgets)
{
    for (int i = 1; i < widgets.size(); ++i) {
        const QRect a = globalRect(widgets[i - 1]), b = globalRect(widgets[i]);
        const bool sameRow = b.top() < a.bottom() && a.top() < b.bottom();
        const bool ok = sameRow ? b.left() >= a.left() : b.top() >= a.top();
        if (!ok)
            return QStringLiteral("%1 at (%2,%3) comes after %4 at (%5,%6)")
                .arg(describe(widgets[i]))
                .arg(b.left())
                .arg(b.top())
                .arg(describe(widgets[i - 1]))
                .arg(a.left())
                .arg(a.top());
    }
    return {};
}
} // namespace

class TestFirstRun : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void initialSizeIsAShareOfTheScreen_data();
    void initialSizeIsAShareOfTheScreen();
    void fitOnScreens_data();
    void fitOnScreens();
    void firstStartFitsALaptopScreen();
    void restoredGeometryComesBackOnScreen();

    void firstSendNeedsNoTyping();
    void validationWaitsForTheUser();

    void timelineFollowsTheLastEvent();
    void emptyTimelineSaysWhyAndOffersFit();

    void profileBannerDoesNotMoveTheForm();
    void windowBannerDoesNotMoveTheWindow();

    void everyControlHasAnAccessibleName();
    void focusFollowsReadingOrder();
    void profileDialogFocusFollowsReadingOrder();
    void wholeSessionFromTheKeyboard();

private:
    std::unique_ptr<MainWindow> makeWindow(bool autoConnect, bool restoreLayout = false);

    QTemporaryDir m_home;
    std::unique_ptr<MainWindow> m_window;
};

void TestFirstRun::initTestCase()
{
    QVERIFY(m_home.isValid());
    qputenv("XDG_CONFIG_HOME", m_home.filePath(QStringLiteral("config")).toUtf8());
    qputenv("XDG_DATA_HOME", m_home.filePath(QStringLiteral("data")).toUtf8());
    QVERIFY(QGuiApplication::primaryScreen());
    QCOMPARE(QGuiApplication::primaryScreen()->availableGeometry(), kLaptop);
}

void TestFirstRun::init()
{
    // Every test starts as a first start: no settings, no layout, no history.
    QSettings(
        QSettings::IniFormat, QSettings::UserScope, QStringLiteral("ccs-admin"), QStringLiteral("ccs-admin"))
        .clear();
}

void TestFirstRun::cleanup()
{
    m_window.reset();
}

std::unique_ptr<MainWindow> TestFirstRun::makeWindow(bool autoConnect, bool restoreLayout)
{
    MainWindow::Options options;
    options.secrets = std::make_unique<storage::MemorySecretStore>();
    options.profilesIni = m_home.filePath(QStringLiteral("profiles.ini"));
    options.autoConnect = autoConnect;
    options.restoreLayout = restoreLayout;
    auto window = std::make_unique<MainWindow>(std::move(options));
    window->show();
    return window;
}

void TestFirstRun::initialSizeIsAShareOfTheScreen_data()
{
    QTest::addColumn<QRect>("available");
    QTest::addColumn<QSize>("expected");
    QTest::newRow("laptop 1366x768") << QRect(0, 0, 1366, 768) << QSize(1256, 691);
    QTest::newRow("full HD: the preferred size") << QRect(0, 0, 1920, 1080) << QSize(1440, 900);
    QTest::newRow("1440p at 2x: 1280x720 logical") << QRect(0, 0, 1280, 720) << QSize(1177, 648);
    QTest::newRow("a panel on top") << QRect(0, 28, 1366, 740) << QSize(1256, 666);
    QTest::newRow("tiny") << QRect(0, 0, 640, 400) << QSize(588, 360);
}

void TestFirstRun::initialSizeIsAShareOfTheScreen()
{
    QFETCH(QRect, available);
    QFETCH(QSize, expected);
    const QSize size
        = initialWindowSize(available, QSize(1440, 900), QSize(0, MainWindow::kTitleBarAllowance));
    QCOMPARE(size, expected);
    QVERIFY(size.width() <= available.width());
    QVERIFY(size.height() + MainWindow::kTitleBarAllowance <= available.height());
}

void TestFirstRun::fitOnScreens_data()
{
    QTest::addColumn<QRect>("geometry");
    QTest::addColumn<QList<QRect>>("screens");
    QTest::addColumn<QRect>("expected");
    const QRect laptop(0, 0, 1366, 768);
    const QRect monitor(1366, 0, 2560, 1440);
    QTest::newRow("fits: unchanged") << QRect(50, 40, 1200, 700) << QList<QRect> {laptop}
                                     << QRect(50, 40, 1200, 700);
    QTest::newRow("on the monitor, still docked: unchanged")
        << QRect(1500, 100, 1800, 1100) << QList<QRect> {laptop, monitor} << QRect(1500, 100, 1800, 1100);
    QTest::newRow("undocked: the monitor's window comes to the laptop")
        << QRect(1500, 100, 1800, 1100) << QList<QRect> {laptop} << QRect(0, 0, 1366, 768);
    QTest::newRow("too big for the laptop: shrunk, top-left kept")
        << QRect(0, 0, 1440, 900) << QList<QRect> {laptop} << QRect(0, 0, 1366, 768);
    QTest::newRow("hanging off the right edge: moved in")
        << QRect(900, 100, 800, 600) << QList<QRect> {laptop} << QRect(566, 100, 800, 600);
    QTest::newRow("above the top: moved down")
        << QRect(100, -200, 800, 600) << QList<QRect> {laptop} << QRect(100, 0, 800, 600);
    QTest::newRow("across two screens: onto the one it overlaps most")
        << QRect(1200, 100, 1000, 600) << QList<QRect> {laptop, monitor} << QRect(1366, 100, 1000, 600);
    QTest::newRow("half off a screen left of the primary")
        << QRect(-2300, 50, 900, 600) << QList<QRect> {laptop, QRect(-1920, 0, 1920, 1080)}
        << QRect(-1920, 50, 900, 600);
    QTest::newRow("on no screen at all: onto the first")
        << QRect(5000, 3000, 900, 600) << QList<QRect> {laptop} << QRect(466, 168, 900, 600);
}

void TestFirstRun::fitOnScreens()
{
    QFETCH(QRect, geometry);
    QFETCH(QList<QRect>, screens);
    QFETCH(QRect, expected);
    const QRect fitted = ccs::ui::fitOnScreens(geometry, screens);
    QCOMPARE(fitted, expected);
    bool onOne = false;
    for (const QRect &s : screens)
        onOne = onOne || s.contains(fitted);
    QVERIFY(onOne);
}

void TestFirstRun::firstStartFitsALaptopScreen()
{
    m_window = makeWindow(true, true);
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QTRY_COMPARE_WITH_TIMEOUT(m_window->session()->state(), SessionState::Connected, kConnectTimeout);
    const QRect available = m_window->screen()->availableGeometry();
    // The first size is the one asked for: the layout's minimum does not push it past the share, even on
    // the smallest screen there are screenshots for (2560×1440 at 2×: 1280×720 logical).
    const QSize tallFrame(0, MainWindow::kTitleBarAllowance);
    QCOMPARE(m_window->size(), initialWindowSize(available, QSize(1440, 900), tallFrame));
    const QSize smallest = initialWindowSize(QRect(0, 0, 1280, 720), QSize(1440, 900), tallFrame);
    QVERIFY2(m_window->minimumSizeHint().width() <= smallest.width()
            && m_window->minimumSizeHint().height() <= smallest.height(),
        qPrintable(QStringLiteral("minimum %1x%2")
                       .arg(m_window->minimumSizeHint().width())
                       .arg(m_window->minimumSizeHint().height())));
    QVERIFY2(available.contains(m_window->frameGeometry()),
        qPrintable(QStringLiteral("%1,%2 %3x%4")
                       .arg(m_window->frameGeometry().x())
                       .arg(m_window->frameGeometry().y())
                       .arg(m_window->frameGeometry().width())
                       .arg(m_window->frameGeometry().height())));
    // A share of the screen, not a postage stamp.
    QVERIFY(m_window->width() >= available.width() * 0.85);
    QVERIFY(m_window->height() >= available.height() * 0.8);
    // What the issue found off screen is on it now.
    const QList<QWidget *> mustShow {
        m_window->composer()->findChild<QPushButton *>(QStringLiteral("sendButton")), m_window->statusBar(),
        m_window->findChild<QToolButton *>(QStringLiteral("profilesButton")), m_window->emulatorPanel()};
    for (QWidget *w : mustShow) {
        QVERIFY(w);
        QVERIFY2(w->isVisible(), qPrintable(describe(w)));
        QVERIFY2(available.contains(globalRect(w)), qPrintable(describe(w)));
    }
}

void TestFirstRun::restoredGeometryComesBackOnScreen()
{
    {
        // Last used on a big monitor right of the laptop, now unplugged.
        auto first = makeWindow(false, true);
        QVERIFY(QTest::qWaitForWindowExposed(first.get()));
        first->setGeometry(QRect(1500, 120, 1800, 1000));
        QTRY_COMPARE(first->geometry().topLeft(), QPoint(1500, 120));
        first->close();
    }
    m_window = makeWindow(false, true);
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    const QRect available = m_window->screen()->availableGeometry();
    QVERIFY2(available.contains(m_window->frameGeometry()),
        qPrintable(QStringLiteral("%1,%2 %3x%4")
                       .arg(m_window->frameGeometry().x())
                       .arg(m_window->frameGeometry().y())
                       .arg(m_window->frameGeometry().width())
                       .arg(m_window->frameGeometry().height())));
}

void TestFirstRun::firstSendNeedsNoTyping()
{
    m_window = makeWindow(true);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->session()->state(), SessionState::Connected, kConnectTimeout);
    m_window->localEmulator()->server()->setUpstreamRatePerSecond(0);
    auto composer = m_window->composer();
    auto recipient = composer->findChild<QComboBox *>(QStringLiteral("recipientEdit"));
    auto send = composer->findChild<QPushButton *>(QStringLiteral("sendButton"));
    QVERIFY(recipient && send);
    // The first online device that answers: the Pixel of the emulator.
    QString firstOnline;
    for (const auto &d : m_window->localEmulator()->server()->devices()) {
        if (d.online && d.spec.kind == emulator::DeviceKind::Registered) {
            firstOnline = d.spec.token;
            break;
        }
    }
    QVERIFY(!firstOnline.isEmpty());
    QTRY_COMPARE(recipient->currentText(), firstOnline);
    QTRY_VERIFY(send->isEnabled());
    // Valid as it stands: no hint, no error.
    QTRY_VERIFY(composer->hintText().isEmpty());
    QVERIFY(!composer->findChild<QLabel *>(QStringLiteral("recipientError"))->isVisible());

    QTest::mouseClick(send, Qt::LeftButton);
    QTRY_COMPARE(m_window->session()->ledger()->size(), 1);
    QTRY_COMPARE_WITH_TIMEOUT(
        m_window->session()->ledger()->at(0).state, MessageState::Delivered, kDeliveryTimeout);
    QCOMPARE(m_window->session()->ledger()->at(0).message.to, firstOnline);
}

void TestFirstRun::validationWaitsForTheUser()
{
    // Not connected: no emulator devices, so no recipient is filled in.
    m_window = makeWindow(false);
    auto composer = m_window->composer();
    auto recipient = composer->findChild<QComboBox *>(QStringLiteral("recipientEdit"));
    auto recipientError = composer->findChild<QLabel *>(QStringLiteral("recipientError"));
    auto hint = composer->findChild<QLabel *>(QStringLiteral("composerHint"));
    auto send = composer->findChild<QPushButton *>(QStringLiteral("sendButton"));
    QVERIFY(recipient && recipientError && hint && send);
    QTest::qWaitForWindowExposed(m_window.get());
    QVERIFY(recipient->currentText().isEmpty());
    // Before any edit: no red, a neutral hint that names what is missing, Send available.
    QTRY_VERIFY(hint->isVisible());
    QVERIFY2(composer->hintText().contains(QStringLiteral("recipient")), qPrintable(composer->hintText()));
    QVERIFY(!recipientError->isVisible());
    QVERIFY(!composer->problemsShown());
    QVERIFY(send->isEnabled());
    // Neutral: the placeholder's colour, not the red of a problem.
    QCOMPARE(hint->foregroundRole(), QPalette::PlaceholderText);

    // Trying to send says what is wrong, where it is; nothing is sent.
    QTest::mouseClick(send, Qt::LeftButton);
    QTRY_VERIFY(recipientError->isVisible());
    QVERIFY(!hint->isVisible());
    QVERIFY(!send->isEnabled());
    QCOMPARE(m_window->session()->ledger()->size(), 0);
    // Fixed: the error goes, and the hint does not come back.
    recipient->setFocus();
    QTest::keyClicks(recipient->lineEdit(), QStringLiteral("/topics/news"));
    QTRY_VERIFY(send->isEnabled());
    QVERIFY(!recipientError->isVisible());
    QVERIFY(!hint->isVisible());

    // A fresh window: a recipient typed and sent at once (before the form is checked again) leaves no hint.
    m_window = makeWindow(false);
    composer = m_window->composer();
    recipient = composer->findChild<QComboBox *>(QStringLiteral("recipientEdit"));
    hint = composer->findChild<QLabel *>(QStringLiteral("composerHint"));
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QTRY_VERIFY(hint->isVisible());
    recipient->setFocus();
    QTest::keyClicks(recipient->lineEdit(), QStringLiteral("/topics/news"));
    QTest::keyClick(recipient->lineEdit(), Qt::Key_Return, Qt::ControlModifier);
    QTRY_COMPARE(m_window->session()->ledger()->size(), 1); // queued until a connection opens
    QVERIFY(!hint->isVisible());

    // A fresh window: typing a recipient and taking it back shows the problem too.
    m_window = makeWindow(false);
    composer = m_window->composer();
    recipient = composer->findChild<QComboBox *>(QStringLiteral("recipientEdit"));
    recipientError = composer->findChild<QLabel *>(QStringLiteral("recipientError"));
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    recipient->setFocus();
    QTest::keyClicks(recipient->lineEdit(), QStringLiteral("x"));
    QTest::keyClick(recipient->lineEdit(), Qt::Key_Backspace);
    QTRY_VERIFY(recipientError->isVisible());
    QVERIFY(composer->problemsShown());
}

void TestFirstRun::timelineFollowsTheLastEvent()
{
    MessageLedger ledger;
    ReceiptTimeline timeline;
    timeline.resize(800, 300);
    timeline.setLedger(&ledger);
    timeline.show();
    QVERIFY(QTest::qWaitForWindowExposed(&timeline));
    DownstreamMessage message;
    message.to = QStringLiteral("emu-pixel-7-registered");
    message.messageId = QStringLiteral("m-timeline-1");
    const int index = ledger.add(message);
    QVERIFY(index >= 0);
    ledger.transition(index, MessageState::InFlight, 1);
    ledger.transition(index, MessageState::Acked, 1);
    ledger.transition(index, MessageState::Delivered, 1);
    const qint64 last = ledger.at(index).history.last().atMs;
    QCOMPARE(timeline.lastEventMs(), last);
    QVERIFY(timeline.isFollowing());
    QVERIFY(timeline.showsAnyMark());

    // Ten seconds of nothing (far more than the few seconds the view spans): Live stays on the last event.
    qint64 clock = last + 10'000;
    timeline.setClock([&clock] { return clock; });
    QVERIFY(timeline.isFollowing());
    QVERIFY2(timeline.leftEdgeMs() <= last && last <= timeline.rightEdgeMs(),
        qPrintable(QStringLiteral("%1 not in [%2, %3]")
                       .arg(last)
                       .arg(timeline.leftEdgeMs())
                       .arg(timeline.rightEdgeMs())));
    QVERIFY(timeline.showsAnyMark());
    QTRY_VERIFY(!timeline.findChild<QWidget *>(QStringLiteral("timelineEmpty"))->isVisible());

    // While things happen, Live slides with the clock.
    clock = last + 200;
    QVERIFY(timeline.rightEdgeMs() >= clock);
    QVERIFY(timeline.showsAnyMark());
}

void TestFirstRun::emptyTimelineSaysWhyAndOffersFit()
{
    MessageLedger ledger;
    ReceiptTimeline timeline;
    timeline.resize(800, 300);
    timeline.setLedger(&ledger);
    timeline.show();
    QVERIFY(QTest::qWaitForWindowExposed(&timeline));
    auto empty = timeline.findChild<QWidget *>(QStringLiteral("timelineEmpty"));
    auto text = timeline.findChild<QLabel *>(QStringLiteral("timelineEmptyText"));
    auto fit = timeline.findChild<QPushButton *>(QStringLiteral("timelineEmptyFit"));
    QVERIFY(empty && text && fit);
    // No messages: it says so; there is nothing to fit.
    QTRY_VERIFY(empty->isVisible());
    QVERIFY2(text->text().contains(QStringLiteral("No messages")), qPrintable(text->text()));
    QVERIFY(!fit->isVisible());

    DownstreamMessage message;
    message.to = QStringLiteral("emu-pixel-7-registered");
    message.messageId = QStringLiteral("m-timeline-2");
    const int index = ledger.add(message);
    ledger.transition(index, MessageState::InFlight, 1);
    ledger.transition(index, MessageState::Acked, 1);
    QTRY_VERIFY(!empty->isVisible());

    // Panned an hour away: the view says why it is empty and Fit brings the marks back.
    timeline.setFocus();
    timeline.panByPixels(3'600'000 / timeline.msPerPixel());
    QVERIFY(!timeline.showsAnyMark());
    QTRY_VERIFY(empty->isVisible());
    QVERIFY2(text->text().contains(QStringLiteral("No marks")), qPrintable(text->text()));
    QVERIFY(fit->isVisible());
    fit->setFocus(Qt::TabFocusReason);
    QTest::keyClick(fit, Qt::Key_Space);
    QTRY_VERIFY(timeline.showsAnyMark());
    QTRY_VERIFY(!empty->isVisible());
}

void TestFirstRun::profileBannerDoesNotMoveTheForm()
{
    m_window = makeWindow(false);
    ProfileDialog dialog(m_window->profiles(), m_window->secrets(), m_window.get());
    dialog.selectProfile(QString::fromLatin1(storage::ProfileStore::kLocalEmulator));
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    auto host = dialog.findChild<QLineEdit *>(QStringLiteral("profileHost"));
    auto list = dialog.findChild<QWidget *>(QStringLiteral("profileList"));
    QVERIFY(host && list);
    // A built-in profile: the info banner says why the form is read-only.
    QTRY_VERIFY(dialog.banner()->isVisible());
    const QRect hostBefore(host->mapTo(&dialog, QPoint(0, 0)), host->size());
    const QRect listBefore(list->mapTo(&dialog, QPoint(0, 0)), list->size());

    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("newProfileButton")), Qt::LeftButton);
    QTRY_VERIFY(!dialog.banner()->isVisible());
    QTest::qWait(50); // a layout pass, had there been one to make
    QCOMPARE(QRect(host->mapTo(&dialog, QPoint(0, 0)), host->size()), hostBefore);
    QCOMPARE(QRect(list->mapTo(&dialog, QPoint(0, 0)), list->size()), listBefore);

    // And back: the banner appears where it was, over its own space.
    dialog.selectProfile(QString::fromLatin1(storage::ProfileStore::kLocalEmulator));
    QTRY_VERIFY(dialog.banner()->isVisible());
    QCOMPARE(QRect(host->mapTo(&dialog, QPoint(0, 0)), host->size()), hostBefore);
    QVERIFY(QRect(dialog.banner()->mapTo(&dialog, QPoint(0, 0)), dialog.banner()->size()).bottom()
        < listBefore.top());
}

void TestFirstRun::windowBannerDoesNotMoveTheWindow()
{
    m_window = makeWindow(false);
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    auto recipient = m_window->composer()->findChild<QComboBox *>(QStringLiteral("recipientEdit"));
    auto tabs = m_window->findChild<QTabWidget *>(QStringLiteral("mainTabs"));
    QVERIFY(recipient && tabs);
    auto where = [&](QWidget *w) { return QRect(w->mapTo(m_window.get(), QPoint(0, 0)), w->size()); };
    const QRect recipientBefore = where(recipient), tabsBefore = where(tabs);
    QVERIFY(!m_window->banner()->isVisible());

    m_window->banner()->showMessage(QStringLiteral("A short notice."), MessageBanner::Kind::Information);
    QTRY_VERIFY(m_window->banner()->isVisible());
    QTest::qWait(50);
    QCOMPARE(where(recipient), recipientBefore);
    QCOMPARE(where(tabs), tabsBefore);
    // A long one overlaps instead of pushing.
    m_window->banner()->showMessage(
        QString(QStringLiteral("A much longer message that needs several lines. ")).repeated(8),
        MessageBanner::Kind::Warning);
    QTest::qWait(50);
    QCOMPARE(where(recipient), recipientBefore);
    QCOMPARE(where(tabs), tabsBefore);
    m_window->banner()->clear();
    QTRY_VERIFY(!m_window->banner()->isVisible());
    QCOMPARE(where(recipient), recipientBefore);
    QCOMPARE(where(tabs), tabsBefore);
}

void TestFirstRun::everyControlHasAnAccessibleName()
{
    m_window = makeWindow(true);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->session()->state(), SessionState::Connected, kConnectTimeout);
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QTRY_VERIFY(m_window->emulatorPanel()->isVisible());
    QStringList unnamed;
    // Every tab, since only the current page is in the tree.
    for (int tab = MainWindow::OutboxTab; tab <= MainWindow::TrafficTab; ++tab) {
        m_window->showTab(MainWindow::Tab(tab));
        QCoreApplication::processEvents();
        findUnnamed(QAccessible::queryAccessibleInterface(m_window.get()), &unnamed);
    }
    // And every interactive widget, also those a tree might not reach. A
    // widget that hands its focus on (a tab widget to its bar) and the editor
    // inside a spin box are announced as the control they belong to.
    auto announcedItself = [](QWidget *w) {
        return w->isVisible() && (w->focusPolicy() & Qt::TabFocus) && !w->focusProxy()
            && !qobject_cast<QAbstractSpinBox *>(w->parentWidget());
    };
    for (QWidget *w : m_window->findChildren<QWidget *>()) {
        if (!announcedItself(w))
            continue;
        QAccessibleInterface *iface = QAccessible::queryAccessibleInterface(w);
        if (iface && iface->text(QAccessible::Name).trimmed().isEmpty() && !unnamed.contains(describe(w)))
            unnamed << describe(w);
    }
    unnamed.removeDuplicates();
    QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join(QStringLiteral("\n"))));

    ProfileDialog dialog(m_window->profiles(), m_window->secrets(), m_window.get());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("newProfileButton")), Qt::LeftButton);
    findUnnamed(QAccessible::queryAccessibleInterface(&dialog), &unnamed);
    for (QWidget *w : dialog.findChildren<QWidget *>()) {
        if (!announcedItself(w))
            continue;
        QAccessibleInterface *iface = QAccessible::queryAccessibleInterface(w);
        if (iface && iface->text(QAccessible::Name).trimmed().isEmpty() && !unnamed.contains(describe(w)))
            unnamed << describe(w);
    }
    unnamed.removeDuplicates();
    QVERIFY2(unnamed.isEmpty(), qPrintable(unnamed.join(QStringLiteral("\n"))));
}

void TestFirstRun::focusFollowsReadingOrder()
{
    m_window = makeWindow(true);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->session()->state(), SessionState::Connected, kConnectTimeout);
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    QTRY_VERIFY(m_window->emulatorPanel()->isVisible());
    auto profile = m_window->findChild<QComboBox *>(QStringLiteral("profileCombo"));
    QVERIFY(profile);
    QWidget *start = profile->isEnabled() ? static_cast<QWidget *>(profile)
                                          : m_window->findChild<QWidget *>(QStringLiteral("connectButton"));
    const QList<QWidget *> chain = tabChain(m_window.get(), start);
    QVERIFY(chain.size() > 20);

    // Columns in order: the connection bar, the composer, the tabs, the emulator panel.
    QWidget *columns[] = {m_window->connectionBar(), m_window->composer(),
        m_window->findChild<QTabWidget *>(QStringLiteral("mainTabs")), m_window->emulatorPanel()};
    QList<QList<QWidget *>> inColumn(std::size(columns));
    int lastColumn = 0;
    QStringList order;
    for (QWidget *w : chain) {
        order << describe(w);
        int column = -1;
        for (int c = 0; c < int(std::size(columns)); ++c) {
            if (columns[c]->isAncestorOf(w))
                column = c;
        }
        if (column < 0)
            continue; // the banner's close button, when it shows, is between the bar and the rest
        QVERIFY2(column >= lastColumn,
            qPrintable(QStringLiteral("%1 is reached after the next column:\n%2")
                           .arg(describe(w), order.join(QLatin1Char('\n')))));
        lastColumn = column;
        inColumn[column] << w;
    }
    for (int c = 0; c < int(std::size(columns)); ++c) {
        QVERIFY2(!inColumn[c].isEmpty(), qPrintable(columns[c]->objectName()));
        const QString problem = readingOrderProblem(inColumn[c]);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }
    // Each tab's page reads its bar before its list or timeline.
    auto tabs = m_window->findChild<QTabWidget *>(QStringLiteral("mainTabs"));
    for (int tab = MainWindow::OutboxTab; tab <= MainWindow::TrafficTab; ++tab) {
        m_window->showTab(MainWindow::Tab(tab));
        QWidget *page = tabs->currentWidget();
        QList<QWidget *> inPage;
        for (QWidget *w : tabChain(m_window.get(), tabs->tabBar())) {
            if (page->isAncestorOf(w))
                inPage << w;
        }
        QVERIFY2(inPage.size() >= 2, qPrintable(page->objectName()));
        const QString problem = readingOrderProblem(inPage);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    // The composer reads as a form: the recipient first, Send after the fields.
    QCOMPARE(inColumn[1].first()->objectName(), QStringLiteral("recipientEdit"));
    const int sendAt
        = inColumn[1].indexOf(m_window->composer()->findChild<QWidget *>(QStringLiteral("sendButton")));
    const int dataAt
        = inColumn[1].indexOf(m_window->composer()->findChild<QWidget *>(QStringLiteral("dataEditor")));
    QVERIFY(dataAt >= 0 && sendAt > dataAt);
}

void TestFirstRun::profileDialogFocusFollowsReadingOrder()
{
    m_window = makeWindow(false);
    ProfileDialog dialog(m_window->profiles(), m_window->secrets(), m_window.get());
    dialog.show();
    QVERIFY(QTest::qWaitForWindowActive(&dialog));
    QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("newProfileButton")), Qt::LeftButton);
    auto list = dialog.findChild<QWidget *>(QStringLiteral("profileList"));
    auto name = dialog.findChild<QWidget *>(QStringLiteral("profileName"));
    const QList<QWidget *> chain = tabChain(&dialog, list);
    // The list and its buttons (left), then the form (right) from the top, then the buttons below.
    const int nameAt = int(chain.indexOf(name));
    QVERIFY2(nameAt > 0, qPrintable(QString::number(chain.size())));
    QList<QWidget *> left = chain.mid(0, nameAt), form;
    for (QWidget *w : chain.mid(nameAt)) {
        if (globalRect(w).left() >= globalRect(name).left() - 2)
            form << w;
    }
    QVERIFY(left.contains(dialog.findChild<QWidget *>(QStringLiteral("newProfileButton"))));
    QString problem = readingOrderProblem(left);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(form.size() >= 8);
    problem = readingOrderProblem(form);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestFirstRun::wholeSessionFromTheKeyboard()
{
    m_window = makeWindow(true);
    QTRY_COMPARE_WITH_TIMEOUT(m_window->session()->state(), SessionState::Connected, kConnectTimeout);
    m_window->localEmulator()->server()->setUpstreamRatePerSecond(0);
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
    MainWindow *window = m_window.get();
    auto composer = window->composer();
    auto recipient = composer->findChild<QComboBox *>(QStringLiteral("recipientEdit"));
    auto data = composer->findChild<JsonEditor *>(QStringLiteral("dataEditor"));
    QVERIFY(recipient && data);
    auto keyToFocus = [] { return QApplication::focusWidget() ? QApplication::focusWidget() : nullptr; };

    // Choose a device: Alt+T goes to "To", Down walks the emulator's devices.
    QTest::keyClick(window, Qt::Key_T, Qt::AltModifier);
    QTRY_VERIFY(recipient->isAncestorOf(keyToFocus()) || keyToFocus() == recipient);
    QTest::keyClick(keyToFocus(), Qt::Key_Down);
    QTest::keyClick(keyToFocus(), Qt::Key_Down);
    const auto devices = window->localEmulator()->server()->devices();
    QVERIFY(devices.size() >= 2);
    const QString chosen = devices.at(1).spec.token;
    QTRY_COMPARE(recipient->currentText(), chosen);

    // Write the data: Alt+D goes to "Data".
    QTest::keyClick(keyToFocus(), Qt::Key_D, Qt::AltModifier);
    QTRY_COMPARE(keyToFocus(), static_cast<QWidget *>(data));
    QTest::keyClick(data, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(data, QStringLiteral("{\"typed\": \"with the keyboard only\"}"));
    QTRY_VERIFY(data->toPlainText().contains(QStringLiteral("keyboard only")));

    // Send: Ctrl+Return; it is delivered.
    QTest::keyClick(data, Qt::Key_Return, Qt::ControlModifier);
    QTRY_COMPARE(window->session()->ledger()->size(), 1);
    QCOMPARE(window->session()->ledger()->at(0).message.to, chosen);
    QTRY_COMPARE_WITH_TIMEOUT(
        window->session()->ledger()->at(0).state, MessageState::Delivered, kDeliveryTimeout);

    // An upstream message from the selected device (Ctrl+U), then the inbox (Ctrl+2).
    QTest::keyClick(keyToFocus(), Qt::Key_U, Qt::ControlModifier);
    QTest::keyClick(keyToFocus(), Qt::Key_2, Qt::ControlModifier);
    auto tabs = window->findChild<QTabWidget *>(QStringLiteral("mainTabs"));
    QTRY_COMPARE(tabs->currentIndex(), int(MainWindow::InboxTab));
    QTRY_VERIFY_WITH_TIMEOUT(window->inbox()->model()->rowCount() >= 1, kDeliveryTimeout);

    // Export it: Ctrl+Shift+E, a file name typed into the dialog, Return.
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("inbox-from-keyboard.jsonl"));
    bool typed = false;
    QTimer driver;
    driver.setInterval(50);
    connect(&driver, &QTimer::timeout, this, [&] {
        auto dialog = qobject_cast<QFileDialog *>(QApplication::activeModalWidget());
        if (!dialog || !dialog->isVisible() || typed)
            return;
        QWidget *field = QApplication::focusWidget();
        if (!field || !dialog->isAncestorOf(field))
            return;
        typed = true;
        QTest::keyClick(field, Qt::Key_A, Qt::ControlModifier);
        QTest::keyClicks(field, path);
        QTest::keyClick(field, Qt::Key_Return);
    });
    driver.start();
    QTest::keyClick(keyToFocus(), Qt::Key_E, Qt::ControlModifier | Qt::ShiftModifier);
    QTRY_VERIFY_WITH_TIMEOUT(typed, 10000);
    driver.stop();
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(path), 10000);
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray exported = file.readAll();
    QVERIFY2(exported.contains(chosen.toUtf8()) || exported.contains("Hello from the device"),
        exported.constData());
    QTRY_VERIFY(window->banner()->text().contains(QStringLiteral("Exported")));
}

int main(int argc, char *argv[])
{
    // A laptop: one 1366×768 screen.
    const QString screens = test::useOffscreenScreens({kLaptop});
    QApplication app(argc, argv);
    QFile::remove(screens);
    TestFirstRun test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_firstrun.moc"
