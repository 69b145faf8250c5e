#pragma once

#include "CtlOptions.h"
#include "client/CcsSession.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <memory>
#include <string>

namespace ccs::storage {
class SecretStore;
}
namespace ccs::history {
class HistoryWriter;
class HistoryRecorder;
} // namespace ccs::history

namespace ccs::ctl {

// Runs one `send` or `listen` on a CcsSession and prints its events:
// readable lines, or with --json one object per line. Quits the application
// with the exit code when done.
class CtlRunner : public QObject
{
    Q_OBJECT
public:
    explicit CtlRunner(CtlOptions options, QObject *parent = nullptr);
    ~CtlRunner() override;

    // Resolves the profile, the flags and the API key, then starts. Returns at once.
    void start();
    // SIGINT/SIGTERM: stop now with what we have.
    void interrupt();

private:
    void run(const app::ResolvedConnection &resolved);
    void startSend();
    void feedCopies();
    int feedAhead() const; // copies kept unanswered in the session
    int outstanding() const;
    void startListen();
    void openHistory();
    void checkSendDone();
    void finish(int exitCode);
    void emitEvent(
        const QString &event, const QString &messageId, QJsonObject fields, const QString &readable);
    // makeFields() -> QJsonObject (for --json); appendReadable(std::string &) appends the
    // readable line's text. Only the one the output needs is called.
    template<class Fields, class Readable>
    void emitEventWith(
        const QString &event, const QString &messageId, Fields &&makeFields, Readable &&appendReadable);
    void printError(const QString &text);
    void usageError(const QString &text);
    qint64 elapsedMs() const { return m_clock.elapsed(); }
    QJsonObject summary() const;

    CtlOptions m_options;
    ConnectionSettings m_settings; // resolved from the profile and the flags, with the API key
    CcsSession m_session;
    std::unique_ptr<storage::SecretStore> m_secrets;
    QElapsedTimer m_clock;
    QTimer m_timeout;
    QTimer m_receiptWait;
    bool m_everConnected = false;
    bool m_finishing = false;
    bool m_waitingReceipts = false;
    int m_exitCode = 0;
    int m_upstream = 0;
    int m_duplicates = 0;
    int m_receipts = 0;
    int m_retries = 0;
    // --count N: copies handed to the session so far. They are handed over a few windows
    // ahead of the answers, not all at once, so what is being sent stays in the cache.
    int m_fed = 0;
    bool m_feedPosted = false;
    QSet<QString> m_receiptsFor; // original ids whose receipt came
    std::string m_line; // the readable line being written
    // With --profile, what this run sends and receives goes into the profile's history.
    // Declared after the session, so they go first and the writer's last batch is flushed.
    QString m_historyProfile;
    std::unique_ptr<history::HistoryWriter> m_history;
    std::unique_ptr<history::HistoryRecorder> m_historyRecorder;
};

} // namespace ccs::ctl
