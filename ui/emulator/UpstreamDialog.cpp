#include "UpstreamDialog.h"

#include "protocol/JsonCodec.h"
#include "protocol/Messages.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace ccs::ui {

UpstreamDialog::UpstreamDialog(const QString &deviceName, const QString &defaultCategory, QWidget *parent)
    : QDialog(parent)
    , m_id(new QLineEdit(this))
    , m_category(new QLineEdit(this))
    , m_data(new QPlainTextEdit(this))
    , m_ttl(new QSpinBox(this))
    , m_error(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    setObjectName(QStringLiteral("upstreamDialog"));
    setWindowTitle(tr("Upstream message from %1").arg(deviceName));
    auto layout = new QVBoxLayout(this);
    auto form = new QFormLayout;
    m_id->setObjectName(QStringLiteral("upstreamMessageId"));
    m_id->setPlaceholderText(tr("the device's next number"));
    m_id->setAccessibleName(tr("Message ID"));
    m_id->setToolTip(tr("The device's app chooses its ids; two devices may both send \"1\"."));
    m_category->setObjectName(QStringLiteral("upstreamCategory"));
    m_category->setPlaceholderText(defaultCategory);
    m_category->setAccessibleName(tr("Category"));
    m_data->setObjectName(QStringLiteral("upstreamData"));
    m_data->setAccessibleName(tr("Data (JSON object)"));
    m_data->setTabChangesFocus(true);
    m_data->setPlainText(QStringLiteral("{\n  \"text\": \"Hello from the device\"\n}"));
    m_data->setMinimumHeight(fontMetrics().lineSpacing() * 6);
    m_ttl->setObjectName(QStringLiteral("upstreamTimeToLive"));
    m_ttl->setRange(-1, int(kMaxTimeToLive));
    m_ttl->setValue(-1);
    m_ttl->setSpecialValueText(tr("default (not sent)"));
    m_ttl->setSuffix(tr(" s"));
    m_ttl->setAccessibleName(tr("Time to live in seconds"));
    form->addRow(tr("Message &ID"), m_id);
    form->addRow(tr("&Category"), m_category);
    form->addRow(tr("&Data"), m_data);
    form->addRow(tr("&Time to live"), m_ttl);
    layout->addLayout(form);
    m_error->setObjectName(QStringLiteral("upstreamError"));
    m_error->setWordWrap(true);
    QPalette p = m_error->palette();
    p.setColor(QPalette::WindowText, QColor(0xc0, 0x1c, 0x28));
    m_error->setPalette(p);
    // The line is always there, so nothing below it moves when an error shows.
    m_error->setMinimumHeight(fontMetrics().lineSpacing() * 2);
    layout->addWidget(m_error);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Send"));
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_data, &QPlainTextEdit::textChanged, this, &UpstreamDialog::validate);
    connect(m_id, &QLineEdit::textChanged, this, &UpstreamDialog::validate);
    validate();
}

void UpstreamDialog::validate()
{
    QString error;
    m_parsed = {};
    const QByteArray text = m_data->toPlainText().trimmed().toUtf8();
    ParseError parseError;
    if (!text.isEmpty() && !json::parseObject(text, &m_parsed, &parseError)) {
        error = tr("Data is not a JSON object: %1").arg(parseError.message);
    } else if (m_id->text().size() > 1024) {
        error = tr("A message ID has at most 1024 characters.");
    }
    m_error->setText(error);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(error.isEmpty());
}

QString UpstreamDialog::errorText() const
{
    return m_error->text();
}

emulator::UpstreamRequest UpstreamDialog::request() const
{
    emulator::UpstreamRequest r;
    r.messageId = m_id->text().trimmed();
    r.category = m_category->text().trimmed();
    r.data = m_parsed;
    r.timeToLive = m_ttl->value();
    return r;
}

} // namespace ccs::ui
