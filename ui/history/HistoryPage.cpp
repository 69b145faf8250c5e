#include "HistoryPage.h"

#include "client/CcsSession.h"
#include "history/HistoryRecorder.h"

#include <QComboBox>
#include <QDir>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

namespace ccs::ui {

HistoryPage::HistoryPage(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("historyPage"));
    auto layout = new QVBoxLayout(this);
    auto fields = new QHBoxLayout;
    auto field = [&](const QString &placeholder, const QString &name) {
        auto edit = new QLineEdit(this);
        edit->setPlaceholderText(placeholder);
        edit->setAccessibleName(placeholder);
        edit->setObjectName(name);
        edit->setClearButtonEnabled(true);
        connect(edit, &QLineEdit::returnPressed, this, &HistoryPage::search);
        fields->addWidget(edit, 1);
        return edit;
    };
    m_token = field(tr("Device token"), QStringLiteral("historyToken"));
    m_messageId = field(tr("Message ID"), QStringLiteral("historyMessageId"));
    m_text = field(tr("Words in the data"), QStringLiteral("historyText"));
    m_state = new QComboBox(this);
    m_state->setObjectName(QStringLiteral("historyState"));
    m_state->setAccessibleName(tr("State"));
    m_state->addItem(tr("Any state"), QString());
    for (int s = 0; s <= int(MessageState::Cancelled); ++s)
        m_state->addItem(stateName(MessageState(s)), stateName(MessageState(s)));
    m_state->addItem(QStringLiteral("Received"), QStringLiteral("Received"));
    fields->addWidget(m_state);
    m_nack = field(tr("NACK code"), QStringLiteral("historyNack"));
    m_searchButton = new QPushButton(tr("&Search"), this);
    m_searchButton->setObjectName(QStringLiteral("historySearch"));
    connect(m_searchButton, &QPushButton::clicked, this, &HistoryPage::search);
    fields->addWidget(m_searchButton);
    layout->addLayout(fields);

    m_model = new HistoryTableModel(this);
    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("historyView"));
    m_view->setAccessibleName(tr("History"));
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setToolTip(tr("Double-click a message to see everything sent to and received from its device."));
    connect(m_view, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
        if (index.isValid())
            showDevice(m_model->rowAt(index.row()).token);
    });
    layout->addWidget(m_view, 1);

    auto bottom = new QHBoxLayout;
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("historyStatus"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // The path can be long: it must not widen the window (the tooltip has it whole).
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_status->setMinimumWidth(0);
    bottom->addWidget(m_status, 1);
    bottom->addWidget(new QLabel(tr("Keep:"), this));
    m_keepDays = new QSpinBox(this);
    m_keepDays->setObjectName(QStringLiteral("historyKeepDays"));
    m_keepDays->setRange(0, 3650);
    m_keepDays->setSpecialValueText(tr("all days"));
    m_keepDays->setSuffix(tr(" days"));
    m_keepDays->setAccessibleName(tr("Keep days"));
    bottom->addWidget(m_keepDays);
    m_keepMessages = new QSpinBox(this);
    m_keepMessages->setObjectName(QStringLiteral("historyKeepMessages"));
    m_keepMessages->setRange(0, 100000000);
    m_keepMessages->setSingleStep(10000);
    m_keepMessages->setSpecialValueText(tr("all messages"));
    m_keepMessages->setSuffix(tr(" messages"));
    m_keepMessages->setAccessibleName(tr("Keep messages"));
    bottom->addWidget(m_keepMessages);
    auto apply = new QPushButton(tr("Apply"), this);
    apply->setObjectName(QStringLiteral("historyApplyRetention"));
    connect(apply, &QPushButton::clicked, this, &HistoryPage::applyRetention);
    bottom->addWidget(apply);
    m_deleteButton = new QPushButton(tr("Delete history…"), this);
    m_deleteButton->setObjectName(QStringLiteral("historyDelete"));
    connect(m_deleteButton, &QPushButton::clicked, this, &HistoryPage::deleteHistory);
    bottom->addWidget(m_deleteButton);
    layout->addLayout(bottom);

    m_confirm = [this](const QString &question) {
        return QMessageBox::question(this, tr("Delete history"), question) == QMessageBox::Yes;
    };
    updateStatus();
}

HistoryPage::~HistoryPage()
{
    closeProfile();
}

void HistoryPage::attachSession(CcsSession *session)
{
    m_session = session;
    if (m_recorder)
        m_recorder->attachSession(session);
}

void HistoryPage::closeProfile()
{
    m_model->setStore(nullptr);
    m_model->clear();
    if (m_recorder)
        m_recorder->detach();
    m_recorder.reset();
    m_writer.reset(); // writes what waits
    m_store.reset();
    m_path.clear();
}

bool HistoryPage::openProfile(const QString &profile)
{
    if (profile == m_profile && m_writer)
        return true;
    closeProfile();
    m_profile = profile;
    const QString directory = m_directory.isEmpty() ? history::historyDirectory() : m_directory;
    const QString path = directory + QLatin1Char('/') + history::fileNameForProfile(profile);
    auto writer = std::make_unique<history::HistoryWriter>();
    history::OpenResult opened = writer->open(path, {QStringLiteral("ccs-admin"), {}, 0, {}});
    auto store = std::make_unique<history::HistoryStore>();
    if (opened.ok())
        opened = store->open(path);
    if (!opened.ok()) {
        // The file is left as it is; this session lives in the outbox and inbox only.
        m_status->setText(tr("Not recorded: %1").arg(opened.error));
        Q_EMIT problem(tr("%1 This session is kept in memory only.").arg(opened.error));
        updateStatus();
        return false;
    }
    m_path = path;
    m_writer = std::move(writer);
    m_store = std::move(store);
    connect(m_writer.get(), &history::HistoryWriter::writeFailed, this, [this](const QString &error) {
        Q_EMIT problem(tr("The history cannot be written (%1): is the disk full? New messages wait in memory "
                          "and are written when there is room again.")
                           .arg(error));
    });
    connect(m_writer.get(), &history::HistoryWriter::writeRecovered, this, &HistoryPage::recovered);
    m_recorder = std::make_unique<history::HistoryRecorder>(m_writer.get());
    if (m_session)
        m_recorder->attachSession(m_session);
    m_model->setStore(m_store.get());
    loadRetention();
    applyRetention();
    search();
    return true;
}

void HistoryPage::search()
{
    if (!m_store) {
        updateStatus();
        return;
    }
    if (m_writer)
        m_writer->flush(); // what this session did so far is found too
    history::HistoryQuery q;
    q.token = m_token->text().trimmed();
    q.messageId = m_messageId->text().trimmed();
    q.text = m_text->text();
    q.state = m_state->currentData().toString();
    q.nackCode = m_nack->text().trimmed().toUpper();
    if (!m_model->setQuery(q))
        Q_EMIT problem(tr("The history search failed: %1").arg(m_model->lastError()));
    updateStatus();
}

void HistoryPage::showDevice(const QString &token)
{
    m_messageId->clear();
    m_text->clear();
    m_nack->clear();
    m_state->setCurrentIndex(0);
    m_token->setText(token);
    search();
}

bool HistoryPage::deleteHistory()
{
    if (!m_store)
        return false;
    if (!m_confirm(tr("Delete the whole history of \"%1\"? This cannot be undone.").arg(m_profile)))
        return false;
    if (m_writer)
        m_writer->flush();
    if (!m_store->deleteAll()) {
        Q_EMIT problem(tr("The history could not be deleted: %1").arg(m_store->lastError()));
        return false;
    }
    search();
    return true;
}

void HistoryPage::loadRetention()
{
    // Kept in the profile's own database, so each profile has its own.
    m_keepDays->setValue(m_store->setting(QStringLiteral("retention_days")).toInt());
    m_keepMessages->setValue(m_store->setting(QStringLiteral("retention_messages")).toInt());
}

void HistoryPage::applyRetention()
{
    if (!m_store)
        return;
    m_store->setSetting(QStringLiteral("retention_days"), QString::number(m_keepDays->value()));
    m_store->setSetting(QStringLiteral("retention_messages"), QString::number(m_keepMessages->value()));
    if (m_keepDays->value() > 0 || m_keepMessages->value() > 0) {
        if (m_writer)
            m_writer->flush();
        if (m_store->applyRetention(m_keepDays->value(), m_keepMessages->value()) < 0)
            Q_EMIT problem(tr("Old history could not be removed: %1").arg(m_store->lastError()));
    }
    updateStatus();
}

void HistoryPage::updateStatus()
{
    if (!m_store) {
        if (m_status->text().isEmpty())
            m_status->setText(tr("No history open."));
        m_searchButton->setEnabled(false);
        m_deleteButton->setEnabled(false);
        return;
    }
    m_searchButton->setEnabled(true);
    m_deleteButton->setEnabled(true);
    const history::HistoryStats stats = m_store->stats();
    const QLocale locale;
    m_status->setText(tr("%1 sent, %2 received, %3 receipts · %4 on disk · %5")
                          .arg(locale.toString(stats.downstream), locale.toString(stats.upstream),
                              locale.toString(stats.receipts), locale.formattedDataSize(stats.fileBytes),
                              QDir::toNativeSeparators(m_path)));
    m_status->setToolTip(m_path);
}

void HistoryPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    search(); // what happened since the last look
}

} // namespace ccs::ui
