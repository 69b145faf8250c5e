#pragma once

#include <QObject>
#include <QTimer>

namespace ccs::ui {

class MainWindow;

// `ccs-admin --screenshot FILE`: connect to the local emulator, send a demo
// message with a receipt, wait for its receipt and an upstream message, then
// save the window as PNG. Emits finished(exit code).
class ScreenshotRunner : public QObject
{
    Q_OBJECT
public:
    ScreenshotRunner(MainWindow *window, const QString &path, QObject *parent = nullptr);
    void start(int timeoutMs = 30000);
    void setTab(int tab) { m_tab = tab; }

Q_SIGNALS:
    void finished(int exitCode);

private:
    void poll();
    void capture(bool complete);
    void save(bool complete);

    MainWindow *m_window;
    QString m_path;
    QString m_demoId;
    int m_step = 0;
    int m_tab = 0;
    QTimer m_poll;
    QTimer m_timeout;
};

} // namespace ccs::ui
