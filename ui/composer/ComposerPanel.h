#pragma once

#include "ComposerState.h"
#include "TemplateStore.h"
#include "client/BulkSendJob.h"
#include "client/CcsSession.h"

#include <QPointer>
#include <QTimer>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QScrollArea;
class QPushButton;
class QSpinBox;
class QStringListModel;
class QToolButton;

namespace ccs::ui {

class ByteMeter;
class JsonEditor;

// Builds one downstream message: recipient, id, data and notification JSON,
// options, a live preview of the stanza, templates; sends one or N copies.
// Invalid input is marked where it is, with why, and nothing is sent.
class ComposerPanel : public QWidget
{
    Q_OBJECT
public:
    // field: a JSON path ("data.from", "time_to_live") or "data"/"notification" for syntax.
    using Problem = FieldError;

    explicit ComposerPanel(QWidget *parent = nullptr);
    ~ComposerPanel() override;

    void setSession(CcsSession *session);
    // Tokens with friendly names, offered first in the recipient list.
    void setKnownDevices(const QList<QPair<QString, QString>> &devices);
    // Fills an empty recipient the user has not touched (the first online
    // device of the local emulator); an empty token takes such a suggestion back.
    void suggestRecipient(const QString &token);
    // Problems show under their fields once the user has edited the form or
    // tried to send; before that a neutral hint says what is still needed.
    bool problemsShown() const { return m_touched; }
    QString hintText() const;

    // As wide as its form needs: the form scrolls down, never sideways.
    QSize minimumSizeHint() const override;

    ComposerState state() const;
    void setState(const ComposerState &state);
    QString messageId() const;
    void setMessageId(const QString &id);

    // Validates the form now; the message when valid.
    bool buildMessage(DownstreamMessage *out, QList<Problem> *problems = nullptr) const;
    const QList<Problem> &problems() const { return m_problems; }

    bool isSendingCopies() const { return m_bulk && m_bulk->isRunning(); }

public Q_SLOTS:
    bool send();
    void sendCopies(int copies);
    void cancelCopies();
    void regenerateId();

Q_SIGNALS:
    void messageSent(const QString &messageId);
    void copiesFinished(int answered, int cancelled);

private:
    void buildUi();
    void revalidate();
    void scheduleRevalidate();
    void showProblems(const QList<Problem> &problems);
    void showHint(const QList<Problem> &problems);
    void noteEdit();
    RequestBuild build() const; // reads the form once
    void updatePreview(const DownstreamMessage *message);
    void updateTtlLabel();
    void rememberRecipient(const QString &to);
    void refreshRecipients();
    void refreshTemplates(const QString &select = {});
    void loadTemplate(const QString &name);
    void saveTemplate();
    void deleteTemplate();
    void updateBulkProgress(int answered, int cancelled, int submitted, int total);
    void copiesDone(int answered, int cancelled);

    QPointer<CcsSession> m_session;
    QPointer<BulkSendJob> m_bulk; // "Send copies", on the session's side

    QScrollArea *m_scroll = nullptr;
    QComboBox *m_recipient = nullptr;
    QLabel *m_recipientError = nullptr;
    QLineEdit *m_messageId = nullptr;
    QToolButton *m_regenerate = nullptr;
    QLabel *m_messageIdError = nullptr;
    JsonEditor *m_data = nullptr;
    ByteMeter *m_byteMeter = nullptr;
    QLabel *m_dataError = nullptr;
    QCheckBox *m_notificationEnabled = nullptr;
    JsonEditor *m_notification = nullptr;
    QLabel *m_notificationError = nullptr;
    QLineEdit *m_collapseKey = nullptr;
    QSpinBox *m_ttlValue = nullptr;
    QComboBox *m_ttlUnit = nullptr;
    QLabel *m_ttlHuman = nullptr;
    QLabel *m_optionsError = nullptr;
    QComboBox *m_priority = nullptr;
    QCheckBox *m_delayWhileIdle = nullptr;
    QCheckBox *m_receipt = nullptr;
    QCheckBox *m_dryRun = nullptr;
    QComboBox *m_templates = nullptr;
    QToolButton *m_saveTemplate = nullptr;
    QToolButton *m_deleteTemplate = nullptr;
    QToolButton *m_previewToggle = nullptr;
    QPlainTextEdit *m_preview = nullptr;
    QPushButton *m_send = nullptr;
    QSpinBox *m_copies = nullptr;
    QPushButton *m_sendCopies = nullptr;
    QLabel *m_summary = nullptr;
    QLabel *m_hint = nullptr;
    QWidget *m_bulkRow = nullptr;
    QProgressBar *m_bulkProgress = nullptr;
    QPushButton *m_bulkCancel = nullptr;
    QLabel *m_bulkLabel = nullptr;
    QStringListModel *m_completionModel = nullptr;

    QList<QPair<QString, QString>> m_devices;
    QStringList m_history;
    QList<Problem> m_problems;
    QTimer m_revalidateTimer;
    TemplateStore m_templateStore;
    bool m_loadingTemplate = false;
    bool m_programmatic = false; // the composer itself is changing a field: not an edit
    bool m_touched = false;
    bool m_recipientEdited = false;
    QString m_suggestedRecipient;
};

} // namespace ccs::ui
