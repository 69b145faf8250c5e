#pragma once

#include "server/EmulatorTypes.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;

namespace ccs::ui {

// Composes one upstream message from a simulated device: its message_id
// (devices choose their own, so ids repeat across devices), category, data
// and time_to_live. Invalid data JSON is shown inline and keeps OK disabled.
class UpstreamDialog : public QDialog
{
    Q_OBJECT
public:
    UpstreamDialog(const QString &deviceName, const QString &defaultCategory, QWidget *parent = nullptr);

    emulator::UpstreamRequest request() const; // valid when the dialog was accepted
    QLineEdit *messageIdEdit() const { return m_id; }
    QPlainTextEdit *dataEdit() const { return m_data; }
    QSpinBox *timeToLiveSpin() const { return m_ttl; }
    QString errorText() const;

private:
    void validate();

    QLineEdit *m_id;
    QLineEdit *m_category;
    QPlainTextEdit *m_data;
    QSpinBox *m_ttl;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
    QJsonObject m_parsed;
};

} // namespace ccs::ui
