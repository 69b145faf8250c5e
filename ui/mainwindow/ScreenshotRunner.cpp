#include "ScreenshotRunner.h"

#include "MainWindow.h"
#include "common/MessageBanner.h"
#include "common/UiLog.h"
#include "composer/ComposerPanel.h"
#include "composer/ComposerState.h"
#include "emulator/EmulatorPanel.h"
#include "emulator/LocalEmulator.h"
#include "history/HistoryPage.h"
#include "inbox/InboxModel.h"
#include "inbox/InboxPage.h"
#include "outbox/OutboxPage.h"

#include <QImageWriter>
#include <QPixmap>

namespace ccs::ui {

ScreenshotRunner::ScreenshotRunner(MainWindow *window, const QString &path, QObject *parent)
    : QObject(parent)
    , m_window(window)
    , m_path(path)
{
    m_poll.setInterval(50);
    connect(&m_poll, &QTimer::timeout, this, &ScreenshotRunner::poll);
    m_timeout.setSingleShot(true);
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        qCWarning(lcUi) << "Screenshot: the demo did not complete in time; saving what is on screen";
        capture(false);
    });
}

void ScreenshotRunner::start(int timeoutMs)
{
    m_window->connectProfile(QString::fromLatin1(storage::ProfileStore::kLocalEmulator));
    m_timeout.start(timeoutMs);
    m_poll.start();
}

void ScreenshotRunner::poll()
{
    CcsSession *session = m_window->session();
    switch (m_step) {
    case 0: // connected: send the demo message to the first registered device
        if (session->state() != SessionState::Connected || !m_window->localEmulator()->isRunning())
            return;
        {
            const auto devices = m_window->localEmulator()->server()->devices();
            QString token = devices.isEmpty() ? QString() : devices.first().spec.token;
            ComposerState state = ComposerState::welcome(token);
            state.notificationEnabled = true;
            m_window->composer()->setState(state);
            m_window->composer()->regenerateId();
            m_demoId = m_window->composer()->messageId();
            if (!m_window->composer()->send()) {
                capture(false);
                return;
            }
            // A few more so the outbox and timeline show a little history.
            for (int i = 1; i < devices.size() && i < 4; ++i) {
                state.to = devices.at(i).spec.token;
                m_window->composer()->setState(state);
                m_window->composer()->send();
            }
            state.to = token;
            m_window->composer()->setState(state);
            m_window->emulatorPanel()->selectToken(token);
            m_window->emulatorPanel()->sendUpstreamFromSelected();
            m_step = 1;
        }
        return;
    case 1: { // the demo message delivered and an upstream message in the inbox
        const LedgerEntry *entry = session->ledger()->find(m_demoId);
        const bool delivered = entry && entry->state == MessageState::Delivered;
        if (!delivered || m_window->inbox()->model()->totalCount() < 1)
            return;
        m_window->showTab(MainWindow::OutboxTab);
        m_window->outbox()->selectMessage(m_demoId);
        m_window->showTab(MainWindow::Tab(m_tab));
        m_step = 2;
        // Let the other messages settle and the views repaint.
        QTimer::singleShot(1500, this, [this, token = entry->message.to] {
            if (m_tab == MainWindow::HistoryTab) // the per-device view of the demo's device
                m_window->history()->showDevice(token);
            capture(true);
        });
        return;
    }
    default:
        return;
    }
}

void ScreenshotRunner::capture(bool complete)
{
    m_poll.stop();
    m_timeout.stop();
    if (complete)
        m_window->banner()->clear(); // the notices of the demo itself are noise in a picture
    // One more pass so the views repaint without the banner before the grab.
    QTimer::singleShot(150, this, [this, complete] { save(complete); });
}

void ScreenshotRunner::save(bool complete)
{
    const QPixmap pixmap = m_window->grab();
    QImageWriter writer(m_path, "png");
    if (!writer.write(pixmap.toImage())) {
        qCCritical(lcUi) << "Cannot write the screenshot" << m_path << writer.errorString();
        Q_EMIT finished(1);
        return;
    }
    qCInfo(lcUi) << "Screenshot saved to" << m_path << (complete ? "" : "(incomplete demo)");
    Q_EMIT finished(complete ? 0 : 2);
}

} // namespace ccs::ui
