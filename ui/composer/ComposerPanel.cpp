#include "ComposerPanel.h"

#include "ByteMeter.h"
#include "JsonEditor.h"
#include "common/Format.h"
#include "common/UiLog.h"
#include "common/UiSettings.h"
#include "protocol/JsonCodec.h"
#include "protocol/MessageIdGenerator.h"
#include "protocol/Stanza.h"
#include "protocol/Validation.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScopedValueRollback>
#include <QScrollArea>
#include <QShortcut>
#include <QSpinBox>
#include <QStringListModel>
#include <QStyle>
#include <QToolButton>
#include <QVBoxLayout>

namespace ccs::ui {

namespace {

constexpr int kHistorySize = 20;

QLabel *makeErrorLabel(const QString &name, QWidget *parent)
{
    auto label = new QLabel(parent);
    label->setObjectName(name);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->hide();
    return label;
}

QLabel *makeFieldLabel(const QString &text, QWidget *buddy, QWidget *parent)
{
    auto label = new QLabel(text, parent);
    label->setBuddy(buddy);
    return label;
}

} // namespace

ComposerPanel::ComposerPanel(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("composer"));
    setAccessibleName(tr("Composer"));
    m_revalidateTimer.setSingleShot(true);
    m_revalidateTimer.setInterval(60); // coalesce keystrokes
    connect(&m_revalidateTimer, &QTimer::timeout, this, &ComposerPanel::revalidate);

    auto settings = openUiSettings();
    m_history = settings->value(QStringLiteral("composer/recipients")).toStringList();

    buildUi();
    refreshTemplates(TemplateStore::welcomeName());
    setState(ComposerState::welcome());
    regenerateId();
    revalidate();
}

ComposerPanel::~ComposerPanel() = default;

void ComposerPanel::buildUi()
{
    auto outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    auto scroll = m_scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setFocusPolicy(Qt::NoFocus); // Tab goes to the fields, not to their frame
    outer->addWidget(scroll);
    auto body = new QWidget(scroll);
    scroll->setWidget(body);

    auto grid = new QGridLayout(body);
    grid->setContentsMargins(10, 8, 10, 8);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(4);
    grid->setColumnStretch(1, 1);
    int row = 0;

    auto heading = new QLabel(tr("Compose"), body);
    QFont headingFont = heading->font();
    headingFont.setBold(true);
    heading->setFont(headingFont);
    grid->addWidget(heading, row++, 0, 1, 2);

    // Recipient
    m_recipient = new QComboBox(body);
    m_recipient->setObjectName(QStringLiteral("recipientEdit"));
    m_recipient->setEditable(true);
    m_recipient->setInsertPolicy(QComboBox::NoInsert);
    m_recipient->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_recipient->setMinimumContentsLength(12);
    m_recipient->lineEdit()->setPlaceholderText(tr("registration token or /topics/name"));
    m_recipient->setToolTip(tr("The device's registration token, a notification key, or /topics/NAME"));
    m_recipient->setAccessibleName(tr("Recipient"));
    m_recipient->lineEdit()->setAccessibleName(tr("Recipient"));
    m_completionModel = new QStringListModel(this);
    auto completer = new QCompleter(m_completionModel, this);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    completer->setFilterMode(Qt::MatchContains);
    m_recipient->setCompleter(completer);
    grid->addWidget(makeFieldLabel(tr("&To"), m_recipient, body), row, 0);
    grid->addWidget(m_recipient, row++, 1);
    m_recipientError = makeErrorLabel(QStringLiteral("recipientError"), body);
    grid->addWidget(m_recipientError, row++, 1);

    // Message id
    auto idRow = new QHBoxLayout;
    m_messageId = new QLineEdit(body);
    m_messageId->setObjectName(QStringLiteral("messageIdEdit"));
    m_messageId->setToolTip(tr("Unique per sender. Generated for you; edit it if you need a specific id."));
    m_messageId->setAccessibleName(tr("Message id"));
    m_messageId->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_regenerate = new QToolButton(body);
    m_regenerate->setObjectName(QStringLiteral("regenerateIdButton"));
    m_regenerate->setText(QStringLiteral("↻"));
    m_regenerate->setToolTip(tr("Generate a new message id (Ctrl+R)"));
    m_regenerate->setAccessibleName(tr("New message id"));
    m_regenerate->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    idRow->addWidget(m_messageId, 1);
    idRow->addWidget(m_regenerate);
    grid->addWidget(makeFieldLabel(tr("&Id"), m_messageId, body), row, 0);
    grid->addLayout(idRow, row++, 1);
    m_messageIdError = makeErrorLabel(QStringLiteral("messageIdError"), body);
    grid->addWidget(m_messageIdError, row++, 1);

    // Data
    m_data = new JsonEditor(body);
    m_data->setObjectName(QStringLiteral("dataEditor"));
    m_data->setAccessibleName(tr("Data JSON"));
    m_data->setToolTip(tr("The data payload: a JSON object of string values. Ctrl+Shift+F reformats."));
    m_data->setPlaceholderText(tr("{ \"key\": \"value\" }"));
    auto dataLabel = makeFieldLabel(tr("&Data"), m_data, body);
    grid->addWidget(dataLabel, row, 0, Qt::AlignTop | Qt::AlignLeft);
    const int dataRow = row;
    grid->addWidget(m_data, row++, 1);
    m_byteMeter = new ByteMeter(body);
    m_byteMeter->setObjectName(QStringLiteral("byteMeter"));
    m_byteMeter->setLimit(kMaxDataBytes);
    grid->addWidget(m_byteMeter, row++, 1);
    m_dataError = makeErrorLabel(QStringLiteral("dataError"), body);
    grid->addWidget(m_dataError, row++, 1);

    // Notification
    m_notificationEnabled = new QCheckBox(tr("&Notification"), body);
    m_notificationEnabled->setObjectName(QStringLiteral("notificationToggle"));
    m_notificationEnabled->setToolTip(tr("Add a notification object (title, body, icon, sound, ...)"));
    grid->addWidget(m_notificationEnabled, row++, 0, 1, 2);
    m_notification = new JsonEditor(body);
    m_notification->setObjectName(QStringLiteral("notificationEditor"));
    m_notification->setAccessibleName(tr("Notification JSON"));
    m_notification->setToolTip(tr("The notification object"));
    m_notification->setVisible(false);
    grid->addWidget(m_notification, row++, 1);
    m_notificationError = makeErrorLabel(QStringLiteral("notificationError"), body);
    grid->addWidget(m_notificationError, row++, 1);

    // Options
    m_collapseKey = new QLineEdit(body);
    m_collapseKey->setObjectName(QStringLiteral("collapseKeyEdit"));
    m_collapseKey->setPlaceholderText(tr("none"));
    m_collapseKey->setToolTip(tr("Messages with the same collapse key replace each other while waiting "
                                 "(at most 4 distinct keys per device)"));
    m_collapseKey->setAccessibleName(tr("Collapse key"));
    grid->addWidget(makeFieldLabel(tr("Collapse &key"), m_collapseKey, body), row, 0);
    grid->addWidget(m_collapseKey, row++, 1);

    auto ttlRow = new QHBoxLayout;
    m_ttlValue = new QSpinBox(body);
    m_ttlValue->setObjectName(QStringLiteral("ttlSpin"));
    m_ttlValue->setRange(0, 99999);
    m_ttlValue->setAccessibleName(tr("Time to live"));
    m_ttlValue->setToolTip(tr("How long CCS keeps the message for an offline device (0 to 4 weeks)"));
    m_ttlUnit = new QComboBox(body);
    m_ttlUnit->setObjectName(QStringLiteral("ttlUnitCombo"));
    m_ttlUnit->setAccessibleName(tr("Time to live unit"));
    m_ttlUnit->addItem(tr("default (4 weeks)"), int(TtlUnit::Default));
    m_ttlUnit->addItem(tr("seconds"), int(TtlUnit::Seconds));
    m_ttlUnit->addItem(tr("minutes"), int(TtlUnit::Minutes));
    m_ttlUnit->addItem(tr("hours"), int(TtlUnit::Hours));
    m_ttlUnit->addItem(tr("days"), int(TtlUnit::Days));
    m_ttlUnit->addItem(tr("weeks"), int(TtlUnit::Weeks));
    m_ttlHuman = new QLabel(body);
    m_ttlHuman->setObjectName(QStringLiteral("ttlHuman"));
    m_ttlHuman->setForegroundRole(QPalette::PlaceholderText);
    ttlRow->addWidget(m_ttlValue);
    ttlRow->addWidget(m_ttlUnit);
    ttlRow->addWidget(m_ttlHuman, 1);
    grid->addWidget(makeFieldLabel(tr("TT&L"), m_ttlValue, body), row, 0);
    grid->addLayout(ttlRow, row++, 1);

    m_priority = new QComboBox(body);
    m_priority->setObjectName(QStringLiteral("priorityCombo"));
    m_priority->setAccessibleName(tr("Priority"));
    m_priority->setToolTip(tr("high wakes a sleeping device; normal may wait"));
    m_priority->addItem(tr("default"), QString());
    m_priority->addItem(tr("normal"), QStringLiteral("normal"));
    m_priority->addItem(tr("high"), QStringLiteral("high"));
    grid->addWidget(makeFieldLabel(tr("&Priority"), m_priority, body), row, 0);
    grid->addWidget(m_priority, row++, 1, Qt::AlignLeft);

    auto flags = new QHBoxLayout;
    m_delayWhileIdle = new QCheckBox(tr("Delay while idle"), body);
    m_delayWhileIdle->setObjectName(QStringLiteral("delayWhileIdleCheck"));
    m_delayWhileIdle->setToolTip(tr("Hold the message until the device becomes active"));
    m_receipt = new QCheckBox(tr("Delivery &receipt"), body);
    m_receipt->setObjectName(QStringLiteral("receiptCheck"));
    m_receipt->setToolTip(tr("Ask CCS for a receipt when the device gets the message"));
    m_dryRun = new QCheckBox(tr("Dry run"), body);
    m_dryRun->setObjectName(QStringLiteral("dryRunCheck"));
    m_dryRun->setToolTip(tr("Let CCS check the message without delivering it"));
    flags->addWidget(m_delayWhileIdle);
    flags->addWidget(m_receipt);
    flags->addWidget(m_dryRun);
    flags->addStretch();
    grid->addLayout(flags, row++, 0, 1, 2);
    m_optionsError = makeErrorLabel(QStringLiteral("optionsError"), body);
    grid->addWidget(m_optionsError, row++, 0, 1, 2);

    // Templates
    auto templateRow = new QHBoxLayout;
    m_templates = new QComboBox(body);
    m_templates->setObjectName(QStringLiteral("templateCombo"));
    m_templates->setAccessibleName(tr("Template"));
    m_templates->setToolTip(tr("Load a saved template into the composer"));
    m_saveTemplate = new QToolButton(body);
    m_saveTemplate->setObjectName(QStringLiteral("saveTemplateButton"));
    m_saveTemplate->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
    m_saveTemplate->setToolTip(tr("Save the composer as a named template"));
    m_saveTemplate->setAccessibleName(tr("Save template"));
    m_deleteTemplate = new QToolButton(body);
    m_deleteTemplate->setObjectName(QStringLiteral("deleteTemplateButton"));
    m_deleteTemplate->setIcon(style()->standardIcon(QStyle::SP_TrashIcon));
    m_deleteTemplate->setToolTip(tr("Delete the selected template"));
    m_deleteTemplate->setAccessibleName(tr("Delete template"));
    templateRow->addWidget(m_templates, 1);
    templateRow->addWidget(m_saveTemplate);
    templateRow->addWidget(m_deleteTemplate);
    grid->addWidget(makeFieldLabel(tr("Templat&e"), m_templates, body), row, 0);
    grid->addLayout(templateRow, row++, 1);

    // Preview
    m_previewToggle = new QToolButton(body);
    m_previewToggle->setObjectName(QStringLiteral("previewToggle"));
    m_previewToggle->setText(tr("Stanza preview"));
    m_previewToggle->setCheckable(true);
    m_previewToggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_previewToggle->setArrowType(Qt::RightArrow);
    m_previewToggle->setAutoRaise(true);
    m_previewToggle->setToolTip(tr("Show the exact XMPP stanza that will be sent"));
    grid->addWidget(m_previewToggle, row++, 0, 1, 2, Qt::AlignLeft);
    m_preview = new QPlainTextEdit(body);
    m_preview->setObjectName(QStringLiteral("stanzaPreview"));
    m_preview->setReadOnly(true);
    m_preview->setAccessibleName(tr("Stanza preview"));
    m_preview->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_preview->setMaximumHeight(m_preview->fontMetrics().lineSpacing() * 7 + 10);
    m_preview->setVisible(false);
    grid->addWidget(m_preview, row++, 0, 1, 2);

    // Send
    auto sendRow = new QHBoxLayout;
    m_send = new QPushButton(tr("Send"), body);
    m_send->setObjectName(QStringLiteral("sendButton"));
    m_send->setDefault(true);
    m_send->setIcon(style()->standardIcon(QStyle::SP_ArrowRight));
    m_send->setToolTip(tr("Send the message (Ctrl+Return)"));
    m_send->setAccessibleName(tr("Send"));
    m_copies = new QSpinBox(body);
    m_copies->setObjectName(QStringLiteral("copiesSpin"));
    m_copies->setRange(2, 1000000);
    m_copies->setValue(100);
    m_copies->setPrefix(QStringLiteral("× "));
    m_copies->setAccessibleName(tr("Number of copies"));
    m_copies->setToolTip(tr("How many copies Send copies sends, each with its own message id"));
    m_sendCopies = new QPushButton(tr("Send copies"), body);
    m_sendCopies->setObjectName(QStringLiteral("sendCopiesButton"));
    m_sendCopies->setToolTip(tr("Send N copies of this message (Ctrl+Shift+Return)"));
    sendRow->addWidget(m_send);
    sendRow->addStretch();
    sendRow->addWidget(m_copies);
    sendRow->addWidget(m_sendCopies);
    grid->addLayout(sendRow, row++, 0, 1, 2);
    m_summary = makeErrorLabel(QStringLiteral("composerSummary"), body);
    grid->addWidget(m_summary, row++, 0, 1, 2);
    m_hint = new QLabel(body);
    m_hint->setObjectName(QStringLiteral("composerHint"));
    m_hint->setWordWrap(true);
    m_hint->setForegroundRole(QPalette::PlaceholderText);
    m_hint->hide();
    grid->addWidget(m_hint, row++, 0, 1, 2);

    m_bulkRow = new QWidget(body);
    auto bulkLayout = new QGridLayout(m_bulkRow);
    bulkLayout->setContentsMargins(0, 0, 0, 0);
    m_bulkProgress = new QProgressBar(m_bulkRow);
    m_bulkProgress->setObjectName(QStringLiteral("copiesProgress"));
    m_bulkProgress->setAccessibleName(tr("Copies answered"));
    m_bulkProgress->setTextVisible(false);
    m_bulkProgress->setMaximumHeight(8);
    m_bulkCancel = new QPushButton(tr("Cancel"), m_bulkRow);
    m_bulkCancel->setObjectName(QStringLiteral("cancelCopiesButton"));
    m_bulkCancel->setToolTip(tr("Stop sending copies and withdraw those still queued"));
    m_bulkLabel = new QLabel(m_bulkRow);
    m_bulkLabel->setObjectName(QStringLiteral("copiesLabel"));
    m_bulkLabel->setForegroundRole(QPalette::PlaceholderText);
    bulkLayout->addWidget(m_bulkProgress, 0, 0);
    bulkLayout->addWidget(m_bulkCancel, 0, 1, 2, 1);
    bulkLayout->addWidget(m_bulkLabel, 1, 0);
    m_bulkRow->hide();
    grid->addWidget(m_bulkRow, row++, 0, 1, 2);
    grid->setRowStretch(dataRow, 3);

    auto sendShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return), this);
    sendShortcut->setContext(Qt::WindowShortcut);
    connect(sendShortcut, &QShortcut::activated, this, &ComposerPanel::send);
    auto sendShortcut2 = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_Enter), this);
    sendShortcut2->setContext(Qt::WindowShortcut);
    connect(sendShortcut2, &QShortcut::activated, this, &ComposerPanel::send);
    auto copiesShortcut = new QShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Return), this);
    copiesShortcut->setContext(Qt::WindowShortcut);
    connect(copiesShortcut, &QShortcut::activated, this, [this] { sendCopies(m_copies->value()); });

    connect(m_send, &QPushButton::clicked, this, &ComposerPanel::send);
    connect(m_sendCopies, &QPushButton::clicked, this, [this] { sendCopies(m_copies->value()); });
    connect(m_bulkCancel, &QPushButton::clicked, this, &ComposerPanel::cancelCopies);
    connect(m_regenerate, &QToolButton::clicked, this, &ComposerPanel::regenerateId);
    connect(m_notificationEnabled, &QCheckBox::toggled, this, [this](bool on) {
        m_notification->setVisible(on);
        scheduleRevalidate();
    });
    connect(m_previewToggle, &QToolButton::toggled, this, [this](bool on) {
        m_preview->setVisible(on);
        m_previewToggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
    });
    connect(m_ttlUnit, &QComboBox::currentIndexChanged, this, [this] {
        m_ttlValue->setEnabled(TtlUnit(m_ttlUnit->currentData().toInt()) != TtlUnit::Default);
        scheduleRevalidate();
    });
    connect(
        m_templates, &QComboBox::activated, this, [this](int i) { loadTemplate(m_templates->itemText(i)); });
    connect(m_saveTemplate, &QToolButton::clicked, this, &ComposerPanel::saveTemplate);
    connect(m_deleteTemplate, &QToolButton::clicked, this, &ComposerPanel::deleteTemplate);

    for (QLineEdit *edit : {m_recipient->lineEdit(), m_messageId, m_collapseKey})
        connect(edit, &QLineEdit::textChanged, this, &ComposerPanel::scheduleRevalidate);
    connect(m_data, &QPlainTextEdit::textChanged, this, &ComposerPanel::scheduleRevalidate);
    connect(m_notification, &QPlainTextEdit::textChanged, this, &ComposerPanel::scheduleRevalidate);
    connect(m_ttlValue, &QSpinBox::valueChanged, this, &ComposerPanel::scheduleRevalidate);
    connect(m_priority, &QComboBox::currentIndexChanged, this, &ComposerPanel::scheduleRevalidate);
    for (QCheckBox *box : {m_delayWhileIdle, m_receipt, m_dryRun})
        connect(box, &QCheckBox::toggled, this, &ComposerPanel::scheduleRevalidate);

    // What the user changes (not what the composer fills in) makes the problems show.
    connect(m_recipient->lineEdit(), &QLineEdit::textChanged, this, [this] {
        if (!m_programmatic)
            m_recipientEdited = true;
        noteEdit();
    });
    for (QLineEdit *edit : {m_messageId, m_collapseKey})
        connect(edit, &QLineEdit::textChanged, this, &ComposerPanel::noteEdit);
    connect(m_data, &QPlainTextEdit::textChanged, this, &ComposerPanel::noteEdit);
    connect(m_notification, &QPlainTextEdit::textChanged, this, &ComposerPanel::noteEdit);
    connect(m_ttlValue, &QSpinBox::valueChanged, this, &ComposerPanel::noteEdit);
    connect(m_ttlUnit, &QComboBox::currentIndexChanged, this, &ComposerPanel::noteEdit);
    connect(m_priority, &QComboBox::currentIndexChanged, this, &ComposerPanel::noteEdit);
    for (QCheckBox *box : {m_delayWhileIdle, m_receipt, m_dryRun, m_notificationEnabled})
        connect(box, &QCheckBox::toggled, this, &ComposerPanel::noteEdit);

    // The list shows "token — name"; the field keeps only the token.
    connect(m_recipient, &QComboBox::activated, this,
        [this](int index) { m_recipient->setEditText(m_recipient->itemData(index).toString()); });
    refreshRecipients();
}

QSize ComposerPanel::minimumSizeHint() const
{
    const QSize own = QWidget::minimumSizeHint();
    if (!m_scroll || !m_scroll->widget())
        return own;
    const int form = m_scroll->widget()->minimumSizeHint().width()
        + m_scroll->style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr, m_scroll) + 2;
    return QSize(std::max({320, own.width(), form}), own.height());
}

void ComposerPanel::setSession(CcsSession *session)
{
    delete m_bulk;
    m_session = session;
    if (session) {
        m_bulk = new BulkSendJob(session, this);
        connect(m_bulk, &BulkSendJob::progressChanged, this, &ComposerPanel::updateBulkProgress);
        connect(m_bulk, &BulkSendJob::finished, this, &ComposerPanel::copiesDone);
    }
}

void ComposerPanel::setKnownDevices(const QList<QPair<QString, QString>> &devices)
{
    m_devices = devices;
    refreshRecipients();
}

void ComposerPanel::noteEdit()
{
    if (!m_programmatic)
        m_touched = true;
}

void ComposerPanel::suggestRecipient(const QString &token)
{
    if (m_recipientEdited)
        return;
    const QString current = m_recipient->currentText().trimmed();
    if (!current.isEmpty() && current != m_suggestedRecipient)
        return;
    m_suggestedRecipient = token;
    m_programmatic = true;
    m_recipient->setEditText(token);
    m_programmatic = false;
    scheduleRevalidate();
}

void ComposerPanel::refreshRecipients()
{
    const QString current = m_recipient->currentText();
    QStringList completions;
    for (const auto &device : std::as_const(m_devices))
        completions << device.first;
    for (const QString &h : std::as_const(m_history)) {
        if (!completions.contains(h))
            completions << h;
    }
    // Rebuilding an unchanged list would reset the completer under an open popup.
    if (completions == m_completionModel->stringList() && m_recipient->count() == completions.size())
        return;
    const QScopedValueRollback<bool> programmatic(m_programmatic, true);
    QSignalBlocker blocker(m_recipient);
    m_recipient->clear();
    QStringList added;
    for (const auto &[token, name] : std::as_const(m_devices)) {
        m_recipient->addItem(name.isEmpty() ? token : QStringLiteral("%1  —  %2").arg(token, name), token);
        m_recipient->setItemData(m_recipient->count() - 1, name, Qt::ToolTipRole);
        added << token;
    }
    for (const QString &h : std::as_const(m_history)) {
        if (!added.contains(h)) {
            m_recipient->addItem(h, h);
            added << h;
        }
    }
    m_completionModel->setStringList(completions);
    m_recipient->setCurrentIndex(-1);
    m_recipient->setEditText(current);
}

void ComposerPanel::rememberRecipient(const QString &to)
{
    m_history.removeAll(to);
    m_history.prepend(to);
    while (m_history.size() > kHistorySize)
        m_history.removeLast();
    openUiSettings()->setValue(QStringLiteral("composer/recipients"), m_history);
    refreshRecipients();
}

ComposerState ComposerPanel::state() const
{
    ComposerState s;
    s.to = m_recipient->currentText().trimmed();
    s.dataText = m_data->toPlainText();
    s.notificationEnabled = m_notificationEnabled->isChecked();
    s.notificationText = m_notification->toPlainText();
    s.collapseKey = m_collapseKey->text();
    s.ttlUnit = TtlUnit(m_ttlUnit->currentData().toInt());
    s.ttlValue = m_ttlValue->value();
    s.priority = m_priority->currentData().toString();
    s.delayWhileIdle = m_delayWhileIdle->isChecked();
    s.deliveryReceipt = m_receipt->isChecked();
    s.dryRun = m_dryRun->isChecked();
    return s;
}

void ComposerPanel::setState(const ComposerState &s)
{
    const QScopedValueRollback<bool> programmatic(m_programmatic, true);
    if (!s.to.isEmpty())
        m_recipient->setEditText(s.to);
    m_data->setPlainText(s.dataText);
    m_notificationEnabled->setChecked(s.notificationEnabled);
    m_notification->setPlainText(s.notificationText);
    m_collapseKey->setText(s.collapseKey);
    m_ttlUnit->setCurrentIndex(std::max(0, m_ttlUnit->findData(int(s.ttlUnit))));
    m_ttlValue->setValue(s.ttlValue);
    m_ttlValue->setEnabled(s.ttlUnit != TtlUnit::Default);
    m_priority->setCurrentIndex(std::max(0, m_priority->findData(s.priority)));
    m_delayWhileIdle->setChecked(s.delayWhileIdle);
    m_receipt->setChecked(s.deliveryReceipt);
    m_dryRun->setChecked(s.dryRun);
    scheduleRevalidate();
}

QString ComposerPanel::messageId() const
{
    return m_messageId->text();
}

void ComposerPanel::setMessageId(const QString &id)
{
    m_messageId->setText(id);
}

void ComposerPanel::regenerateId()
{
    const QScopedValueRollback<bool> programmatic(m_programmatic, true);
    m_messageId->setText(MessageIdGenerator::next());
}

void ComposerPanel::scheduleRevalidate()
{
    if (!m_loadingTemplate)
        m_revalidateTimer.start();
}

RequestBuild ComposerPanel::build() const
{
    return buildRequest(state().toRequestForm(m_messageId->text()));
}

bool ComposerPanel::buildMessage(DownstreamMessage *out, QList<Problem> *problems) const
{
    const RequestBuild built = build();
    if (problems)
        *problems = built.errors;
    if (out && built.message)
        *out = *built.message;
    return built.ok();
}

void ComposerPanel::revalidate()
{
    m_revalidateTimer.stop();
    const RequestBuild built = build();
    // The meter counts what CCS counts, even while other fields are wrong.
    if (built.dataBytes)
        m_byteMeter->setBytes(*built.dataBytes);
    const auto unit = TtlUnit(m_ttlUnit->currentData().toInt());
    m_ttlHuman->setText(unit == TtlUnit::Default
            ? QString()
            : QStringLiteral("= %1").arg(formatTtl(qint64(m_ttlValue->value()) * ttlUnitSeconds(unit))));
    if (m_touched)
        showProblems(built.errors);
    else
        showHint(built.errors);
    updatePreview(built.message ? &*built.message : nullptr);
    // Untouched, Send stays available: pressing it is how the problems are asked for.
    const bool valid = built.ok();
    m_send->setEnabled((valid || !m_touched) && !isSendingCopies());
    m_sendCopies->setEnabled((valid || !m_touched) && !isSendingCopies());
}

void ComposerPanel::showHint(const QList<Problem> &problems)
{
    showProblems({});
    m_problems = problems;
    QStringList needs;
    auto need = [&needs](const QString &what) {
        if (!needs.contains(what))
            needs << what;
    };
    for (const Problem &p : problems) {
        switch (p.formField) {
        case FormField::Recipient:
            need(tr("a recipient: a device from the list, a registration token or /topics/NAME"));
            break;
        case FormField::MessageId:
            need(tr("a message id (Ctrl+R makes one)"));
            break;
        case FormField::Data:
            need(tr("data that is a JSON object of text values"));
            break;
        case FormField::Notification:
            need(tr("a notification that is a JSON object"));
            break;
        case FormField::Options:
            need(tr("options within the limits of CCS"));
            break;
        }
    }
    m_hint->setText(
        needs.isEmpty() ? QString() : tr("To send, the message needs %1.").arg(needs.join(tr("; "))));
    m_hint->setVisible(!needs.isEmpty());
}

QString ComposerPanel::hintText() const
{
    return m_hint->isVisibleTo(const_cast<ComposerPanel *>(this)) ? m_hint->text() : QString();
}

void ComposerPanel::showProblems(const QList<Problem> &problems)
{
    m_problems = problems;
    m_hint->hide(); // showHint() shows it again when it is the hint's turn
    const QColor red = stateColor(MessageState::Failed, palette());
    auto show = [&](QLabel *label, const QStringList &lines) {
        label->setVisible(!lines.isEmpty());
        label->setText(lines.join(QLatin1Char('\n')));
        QPalette p = label->palette();
        p.setColor(QPalette::WindowText, red);
        label->setPalette(p);
    };
    QStringList toLines, idLines, dataLines, notificationLines, optionLines;
    QList<JsonEditor::Mark> dataMarks, notificationMarks;
    for (const Problem &p : problems) {
        switch (p.formField) {
        case FormField::Recipient:
            toLines << p.message;
            break;
        case FormField::MessageId:
            idLines << p.message;
            break;
        case FormField::Data:
        case FormField::Notification: {
            const bool isData = p.formField == FormField::Data;
            JsonEditor *editor = isData ? m_data : m_notification;
            (isData ? dataLines : notificationLines) << p.message;
            JsonEditor::Mark mark;
            mark.message = p.message;
            if (!p.key.isEmpty()) {
                mark.position = editor->findKey(p.key);
                mark.length = int(p.key.size()) + 2;
            } else if (p.position.index >= 0) {
                mark.position = p.position.index; // a syntax error: where the parser stopped
                mark.length = 1;
            } else {
                mark.position = 0;
                mark.length = int(editor->toPlainText().size());
            }
            if (mark.position >= 0)
                (isData ? dataMarks : notificationMarks).append(mark);
            break;
        }
        case FormField::Options:
            optionLines << p.message;
            break;
        }
    }
    show(m_recipientError, toLines);
    show(m_messageIdError, idLines);
    show(m_dataError, dataLines);
    show(m_notificationError, notificationLines);
    show(m_optionsError, optionLines);
    m_data->setMarks(dataMarks);
    m_notification->setMarks(notificationMarks);
    if (problems.isEmpty())
        m_summary->hide();
    else
        show(m_summary,
            {problems.size() == 1 ? tr("Fix the problem above before sending.")
                                  : tr("Fix the %1 problems above before sending.").arg(problems.size())});
}

void ComposerPanel::updatePreview(const DownstreamMessage *message)
{
    if (!message) {
        m_preview->setPlainText(tr("(no stanza while the message is invalid)"));
        return;
    }
    m_preview->setPlainText(
        QString::fromUtf8(stanza::gcmMessage(message->messageId, message->toJsonBytes())));
}

bool ComposerPanel::send()
{
    m_touched = true; // tried to send: say what is wrong
    revalidate();
    DownstreamMessage message;
    if (!buildMessage(&message))
        return false; // the problems are on screen; nothing is sent
    if (!m_session) {
        showProblems({fieldErrorAt(QStringLiteral("to"), tr("There is no session to send with."))});
        return false;
    }
    ValidationFailure failure;
    if (!m_session->send(message, &failure)) {
        showProblems({fieldErrorAt(failure.field, failure.userMessage())});
        return false;
    }
    rememberRecipient(message.to);
    Q_EMIT messageSent(message.messageId);
    regenerateId();
    return true;
}

void ComposerPanel::sendCopies(int copies)
{
    m_touched = true;
    revalidate();
    DownstreamMessage message;
    if (isSendingCopies() || !m_bulk || !buildMessage(&message))
        return;
    m_bulkProgress->setRange(0, std::max(1, copies));
    m_bulkProgress->setValue(0);
    m_bulkRow->show();
    m_bulkCancel->setEnabled(true);
    m_send->setEnabled(false);
    m_sendCopies->setEnabled(false);
    rememberRecipient(message.to);
    m_bulk->start(message, copies);
}

void ComposerPanel::cancelCopies()
{
    if (m_bulk)
        m_bulk->cancel();
}

void ComposerPanel::updateBulkProgress(int answered, int cancelled, int submitted, int total)
{
    if (!m_bulk || !m_bulk->isRunning())
        return; // copiesDone() has the last word
    m_bulkProgress->setMaximum(std::max(1, total));
    m_bulkProgress->setValue(std::min(answered + cancelled, m_bulkProgress->maximum()));
    QString text = tr("%1 of %2 answered").arg(formatCount(answered), formatCount(total));
    if (submitted < total)
        text += tr(" · %1 handed to the session").arg(formatCount(submitted));
    if (cancelled)
        text += tr(" · %1 cancelled").arg(formatCount(cancelled));
    m_bulkLabel->setText(text);
}

void ComposerPanel::copiesDone(int answered, int cancelled)
{
    m_bulkProgress->setMaximum(std::max(1, answered + cancelled));
    m_bulkProgress->setValue(m_bulkProgress->maximum());
    m_bulkCancel->setEnabled(false);
    m_bulkLabel->setText(
        tr("Done: %1 answered, %2 cancelled").arg(formatCount(answered), formatCount(cancelled)));
    revalidate();
    Q_EMIT copiesFinished(answered, cancelled);
}

void ComposerPanel::refreshTemplates(const QString &select)
{
    QSignalBlocker blocker(m_templates);
    m_templates->clear();
    m_templates->addItems(m_templateStore.names());
    const int i = m_templates->findText(select);
    m_templates->setCurrentIndex(i);
    m_deleteTemplate->setEnabled(m_templates->count() > 1);
}

void ComposerPanel::loadTemplate(const QString &name)
{
    ComposerState s;
    if (!m_templateStore.load(name, &s))
        return;
    if (s.to.isEmpty())
        s.to = m_recipient->currentText();
    m_loadingTemplate = true;
    setState(s);
    m_loadingTemplate = false;
    revalidate();
}

void ComposerPanel::saveTemplate()
{
    bool ok = false;
    const QString name = QInputDialog::getText(
        this, tr("Save template"), tr("Template name:"), QLineEdit::Normal, m_templates->currentText(), &ok);
    if (!ok || name.trimmed().isEmpty())
        return;
    QString error;
    if (!m_templateStore.save(name, state(), &error)) {
        showProblems({fieldErrorAt(QStringLiteral("template"), error)});
        return;
    }
    refreshTemplates(name.trimmed());
}

void ComposerPanel::deleteTemplate()
{
    const QString name = m_templates->currentText();
    if (m_templateStore.remove(name))
        refreshTemplates(TemplateStore::welcomeName());
}

} // namespace ccs::ui
