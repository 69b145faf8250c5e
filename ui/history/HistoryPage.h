#pragma once

#include "HistoryTableModel.h"
#include "history/HistoryTransfer.h"
#include "history/HistoryStore.h"
#include "history/HistoryWriter.h"

#include <QWidget>

#include <functional>
#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableView;

namespace ccs {
class CcsSession;
}
namespace ccs::history {
class HistoryRecorder;
}

namespace ccs::ui {

class DeviceTimeline;

// The "History" tab: what a profile's sessions sent and received, kept in its
// SQLite history across runs. Search fields (device, message id, words in the
// data, state, NACK code), a paged table, the per-device view (double-click a
// row: everything to and from its device), retention, "Delete history" and the
// database size. It also records the current session into the profile's history.
class HistoryPage : public QWidget
{
    Q_OBJECT
public:
    explicit HistoryPage(QWidget *parent = nullptr);
    ~HistoryPage() override;

    // Where the databases are; default history::historyDirectory(). For tests.
    void setDirectory(const QString &directory) { m_directory = directory; }
    void attachSession(CcsSession *session);
    // Records into and shows this profile's history. false: the file cannot be used (the
    // reason went to problem()); it is left untouched and the session is recorded into a
    // history in memory instead (isInMemory()), searchable until the window closes.
    bool openProfile(const QString &profile);
    QString databasePath() const { return m_path; }
    bool isInMemory() const { return m_inMemory; }
    bool isRecording() const { return m_writer && m_writer->isOpen(); }
    history::HistoryWriter *writer() const { return m_writer.get(); }

    void search();
    // The per-device view: everything sent to and received from one token, with the
    // timeline of its messages' states. Any search with a device token shows it.
    void showDevice(const QString &token);
    void showAll(); // leaves the per-device view (and an imported history)

    // Writes the current search's result, every page of it, as JSON Lines (the format of
    // ccsctl history --json). Returns how many messages, -1 on error (said by problem()).
    qint64 exportSearch(const QString &file);
    // Imports a JSON Lines file into a new history of its own (under importDirectory()) and
    // shows it, read-only; broken lines are reported by number (problem()).
    history::ImportResult importFile(const QString &file);
    // Shows an imported history (read-only) instead of the profile's, until showAll().
    bool showImported(const QString &databasePath);
    bool isShowingImported() const { return m_imported != nullptr; }
    void setImportDirectory(const QString &directory) { m_importDirectory = directory; }
    // Replaces the file dialogs of Export… and Import… (tests answer them). save: Export.
    void setFileChooser(std::function<QString(bool save)> choose) { m_chooseFile = std::move(choose); }
    bool deleteHistory(); // asks first (see setConfirmation)
    void applyRetention();
    // Replaces the question before "Delete history" (tests answer it).
    void setConfirmation(std::function<bool(const QString &)> confirm) { m_confirm = std::move(confirm); }

    HistoryTableModel *model() const { return m_model; }
    QLineEdit *tokenEdit() const { return m_token; }
    QLineEdit *messageIdEdit() const { return m_messageId; }
    QLineEdit *textEdit() const { return m_text; }
    QComboBox *stateCombo() const { return m_state; }
    QLineEdit *nackEdit() const { return m_nack; }
    QPushButton *searchButton() const { return m_searchButton; }
    QPushButton *deleteButton() const { return m_deleteButton; }
    QSpinBox *keepDays() const { return m_keepDays; }
    QSpinBox *keepMessages() const { return m_keepMessages; }
    QTableView *view() const { return m_view; }
    QLabel *statusLabel() const { return m_status; }
    QLabel *viewLabel() const { return m_viewLabel; }
    QPushButton *showAllButton() const { return m_showAllButton; }
    QPushButton *exportButton() const { return m_exportButton; }
    QPushButton *importButton() const { return m_importButton; }
    DeviceTimeline *timeline() const { return m_timeline; }

Q_SIGNALS:
    // Something the user should know (a file that cannot be used, a full disk): for the banner.
    void problem(const QString &message);
    void recovered();

protected:
    void showEvent(QShowEvent *event) override;

private:
    void closeProfile();
    void updateStatus();
    void loadRetention();
    history::HistoryStore *shownStore() const { return m_imported ? m_imported.get() : m_store.get(); }
    void updateView();

    QString m_directory;
    QString m_profile;
    QString m_path;
    bool m_inMemory = false;
    QString m_fileProblem;
    CcsSession *m_session = nullptr;
    std::unique_ptr<history::HistoryWriter> m_writer;
    std::unique_ptr<history::HistoryRecorder> m_recorder;
    std::unique_ptr<history::HistoryStore> m_store;
    std::unique_ptr<history::HistoryStore> m_imported; // shown instead of m_store, read-only
    QString m_importedFrom;
    QString m_importDirectory;
    std::function<QString(bool)> m_chooseFile;
    DeviceTimeline *m_timeline = nullptr;
    QLabel *m_viewLabel = nullptr;
    QPushButton *m_showAllButton = nullptr;
    QPushButton *m_exportButton = nullptr;
    QPushButton *m_importButton = nullptr;
    QPushButton *m_applyButton = nullptr;
    HistoryTableModel *m_model = nullptr;
    QLineEdit *m_token = nullptr;
    QLineEdit *m_messageId = nullptr;
    QLineEdit *m_text = nullptr;
    QComboBox *m_state = nullptr;
    QLineEdit *m_nack = nullptr;
    QPushButton *m_searchButton = nullptr;
    QPushButton *m_deleteButton = nullptr;
    QSpinBox *m_keepDays = nullptr;
    QSpinBox *m_keepMessages = nullptr;
    QTableView *m_view = nullptr;
    QLabel *m_status = nullptr;
    std::function<bool(const QString &)> m_confirm;
};

} // namespace ccs::ui
