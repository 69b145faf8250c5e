#include "HistoryPage.h"

#include "DeviceTimeline.h"
#include "client/CcsSession.h"
#include "history/HistoryRecorder.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
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

    // What is shown: all of the profile's history, one device's, or an imported one.
    auto viewRow = new QHBoxLayout;
    m_viewLabel = new QLabel(this);
    m_viewLabel->setObjectName(QStringLiteral("historyViewLabel"));
    m_viewLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_viewLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    viewRow->addWidget(m_viewLabel, 1);
    m_showAllButton = new QPushButton(this);
    m_showAllButton->setObjectName(QStringLiteral("historyShowAll"));
    connect(m_showAllButton, &QPushButton::clicked, this, &HistoryPage::showAll);
    viewRow->addWidget(m_showAllButton);
    m_exportButton = new QPushButton(tr("&Export…"), this);
    m_exportButton->setObjectName(QStringLiteral("historyExport"));
    m_exportButton->setToolTip(tr("Save every message of this search as JSON Lines (as ccsctl history --json)"));
    connect(m_exportButton, &QPushButton::clicked, this, [this] {
        const QString file = m_chooseFile(true);
        if (!file.isEmpty())
            exportSearch(file);
    });
    viewRow->addWidget(m_exportButton);
    m_importButton = new QPushButton(tr("&Import…"), this);
    m_importButton->setObjectName(QStringLiteral("historyImport"));
    m_importButton->setToolTip(tr("Open a JSON Lines export as a separate, read-only history"));
    connect(m_importButton, &QPushButton::clicked, this, [this] {
        const QString file = m_chooseFile(false);
        if (!file.isEmpty())
            importFile(file);
    });
    viewRow->addWidget(m_importButton);
    layout->addLayout(viewRow);
    m_timeline = new DeviceTimeline(this);
    m_timeline->hide();
    layout->addWidget(m_timeline);

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
    {
        // Widths from what the columns hold, so the time and the kind are read whole.
        const QFontMetrics fm = m_view->fontMetrics();
        const int pad = 3 * fm.averageCharWidth();
        m_view->setColumnWidth(HistoryTableModel::TimeColumn, fm.horizontalAdvance(QStringLiteral("2026-12-31 23:59:59.999")) + pad);
        m_view->setColumnWidth(HistoryTableModel::KindColumn, fm.horizontalAdvance(tr("received")) + pad);
        m_view->setColumnWidth(HistoryTableModel::MessageIdColumn, fm.averageCharWidth() * 24);
        m_view->setColumnWidth(HistoryTableModel::TokenColumn, fm.averageCharWidth() * 22);
        m_view->setColumnWidth(HistoryTableModel::NackColumn, fm.averageCharWidth() * 12);
        m_view->setColumnWidth(HistoryTableModel::ConnectionColumn, fm.horizontalAdvance(tr("Conn.")) + pad);
    }
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
    m_applyButton = new QPushButton(tr("Apply"), this);
    m_applyButton->setObjectName(QStringLiteral("historyApplyRetention"));
    connect(m_applyButton, &QPushButton::clicked, this, &HistoryPage::applyRetention);
    bottom->addWidget(m_applyButton);
    m_deleteButton = new QPushButton(tr("Delete history…"), this);
    m_deleteButton->setObjectName(QStringLiteral("historyDelete"));
    connect(m_deleteButton, &QPushButton::clicked, this, &HistoryPage::deleteHistory);
    bottom->addWidget(m_deleteButton);
    layout->addLayout(bottom);

    m_confirm = [this](const QString &question) {
        return QMessageBox::question(this, tr("Delete history"), question) == QMessageBox::Yes;
    };
    m_chooseFile = [this](bool save) {
        const QString filter = tr("JSON Lines (*.jsonl);;All files (*)");
        return save ? QFileDialog::getSaveFileName(this, tr("Export the search"), QStringLiteral("history.jsonl"), filter)
                    : QFileDialog::getOpenFileName(this, tr("Import a history"), QString(), filter);
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
    m_imported.reset();
    m_timeline->clear();
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
        return !m_inMemory;
    closeProfile();
    m_profile = profile;
    const QString directory = m_directory.isEmpty() ? history::historyDirectory() : m_directory;
    const QString path = directory + QLatin1Char('/') + history::fileNameForProfile(profile);
    auto writer = std::make_unique<history::HistoryWriter>();
    auto store = std::make_unique<history::HistoryStore>();
    history::OpenResult opened = writer->open(path, {QStringLiteral("ccs-admin"), {}, 0, {}});
    if (opened.ok())
        opened = store->open(path);
    m_inMemory = !opened.ok();
    m_fileProblem = opened.error;
    if (m_inMemory) {
        // The file is left as it is (never deleted, never written): this session is
        // recorded and searchable in a history that lives in memory until the window closes.
        store.reset();
        writer = std::make_unique<history::HistoryWriter>();
        store = std::make_unique<history::HistoryStore>();
        const QString memory = history::newInMemoryPath();
        history::OpenResult fallback = writer->open(memory, {QStringLiteral("ccs-admin"), {}, 0, {}});
        if (fallback.ok())
            fallback = store->open(memory);
        if (!fallback.ok()) {
            m_status->setText(tr("Not recorded: %1").arg(opened.error));
            Q_EMIT problem(tr("%1 This session is kept in the outbox and inbox only.").arg(opened.error));
            updateStatus();
            return false;
        }
        Q_EMIT problem(tr("%1 This session's history is kept in memory only (searchable here until the "
                          "window closes).")
                           .arg(opened.error));
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
    return !m_inMemory;
}

void HistoryPage::search()
{
    history::HistoryStore *store = shownStore();
    if (!store) {
        updateStatus();
        return;
    }
    if (m_writer && !m_imported)
        m_writer->flush(); // what this session did so far is found too
    history::HistoryQuery q;
    q.token = m_token->text().trimmed();
    q.messageId = m_messageId->text().trimmed();
    q.text = m_text->text();
    q.state = m_state->currentData().toString();
    q.nackCode = m_nack->text().trimmed().toUpper();
    m_model->setStore(store);
    if (!m_model->setQuery(q))
        Q_EMIT problem(tr("The history search failed: %1").arg(m_model->lastError()));
    if (q.token.isEmpty()) {
        m_timeline->clear();
    } else {
        // The device's timeline: its newest messages, their states over time.
        QVector<history::HistoryRow> rows;
        q.limit = HistoryTableModel::kPageSize;
        if (store->search(q, &rows))
            m_timeline->setRows(q.token, rows);
    }
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

void HistoryPage::showAll()
{
    if (m_imported && m_token->text().isEmpty()) {
        m_imported.reset();
        m_importedFrom.clear();
        m_model->setStore(m_store.get());
    }
    m_token->clear();
    search();
}

void HistoryPage::updateView()
{
    const bool device = !m_timeline->token().isEmpty();
    m_timeline->setVisible(device);
    QString what;
    if (device)
        what = tr("Device %1: everything sent to it and received from it").arg(m_timeline->token());
    else
        what = m_imported ? tr("All messages") : tr("All messages of this profile");
    if (m_imported)
        what = tr("Imported from %1 (read-only) · %2").arg(m_importedFrom, what);
    m_viewLabel->setText(what);
    m_showAllButton->setText(device ? tr("All devices") : tr("Back to the profile's history"));
    m_showAllButton->setVisible(device || m_imported);
    m_exportButton->setEnabled(shownStore() != nullptr);
    // An imported history is only read.
    const bool writable = m_store && !m_imported;
    m_deleteButton->setEnabled(writable);
    m_applyButton->setEnabled(writable);
    m_keepDays->setEnabled(writable);
    m_keepMessages->setEnabled(writable);
}

qint64 HistoryPage::exportSearch(const QString &file)
{
    history::HistoryStore *store = shownStore();
    if (!store)
        return -1;
    if (m_writer && !m_imported)
        m_writer->flush();
    QFile out(file);
    QString error;
    qint64 written = -1;
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate))
        error = out.errorString();
    else
        written = history::exportJsonLines(store, m_model->query(), 0, &out, &error);
    if (written >= 0 && !out.flush())
        error = out.errorString(), written = -1;
    if (written < 0)
        Q_EMIT problem(tr("The search could not be exported to %1: %2").arg(QDir::toNativeSeparators(file), error));
    return written;
}

history::ImportResult HistoryPage::importFile(const QString &file)
{
    history::ImportResult result;
    QFile in(file);
    if (!in.open(QIODevice::ReadOnly)) {
        result.error = tr("%1 cannot be read: %2").arg(QDir::toNativeSeparators(file), in.errorString());
    } else {
        const QString path = history::newImportPath(file, m_importDirectory);
        result = history::importJsonLines(&in, QFileInfo(file).fileName(), path);
        if (result.ok() && !showImported(path))
            result.error = tr("the imported history %1 cannot be opened").arg(QDir::toNativeSeparators(path));
    }
    if (!result.ok()) {
        Q_EMIT problem(tr("Nothing was imported: %1").arg(result.error));
        return result;
    }
    if (!result.problems.isEmpty()) {
        QStringList lines;
        for (const history::ImportProblem &p : std::as_const(result.problems).mid(0, 5))
            lines << tr("line %1: %2").arg(p.line).arg(p.reason);
        if (result.problems.size() > 5)
            lines << tr("and %1 more").arg(result.problems.size() - 5);
        Q_EMIT problem(tr("%1 message(s) imported from %2; %3 line(s) could not be read (%4).")
                           .arg(result.imported)
                           .arg(QFileInfo(file).fileName())
                           .arg(result.problems.size())
                           .arg(lines.join(QStringLiteral("; "))));
    }
    return result;
}

bool HistoryPage::showImported(const QString &databasePath)
{
    auto store = std::make_unique<history::HistoryStore>();
    const history::OpenResult opened = store->open(databasePath, true);
    if (!opened.ok()) {
        Q_EMIT problem(opened.error);
        return false;
    }
    const QString from = store->setting(QString::fromLatin1(history::kImportedFromSetting));
    m_importedFrom = from.isEmpty() ? QFileInfo(databasePath).fileName() : from;
    m_model->setStore(nullptr);
    m_imported = std::move(store);
    m_token->clear();
    m_messageId->clear();
    m_text->clear();
    m_nack->clear();
    m_state->setCurrentIndex(0);
    search();
    return true;
}

bool HistoryPage::deleteHistory()
{
    if (!m_store || m_imported)
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
    if (!m_store || m_imported)
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
    updateView();
    history::HistoryStore *store = shownStore();
    m_searchButton->setEnabled(store != nullptr);
    if (!store) {
        if (m_status->text().isEmpty())
            m_status->setText(tr("No history open."));
        return;
    }
    const history::HistoryStats stats = store->stats();
    const QLocale locale;
    const QString counts = tr("%1 sent, %2 received, %3 receipts")
                               .arg(locale.toString(stats.downstream), locale.toString(stats.upstream),
                                   locale.toString(stats.receipts));
    if (m_imported) {
        m_status->setText(tr("Imported, read-only: %1 · %2").arg(counts, QDir::toNativeSeparators(store->path())));
        m_status->setToolTip(store->path());
    } else if (m_inMemory) {
        m_status->setText(tr("In memory only: %1 · %2 was left untouched").arg(counts, QDir::toNativeSeparators(m_path)));
        m_status->setToolTip(m_fileProblem);
    } else {
        m_status->setText(tr("%1 · %2 on disk · %3")
                              .arg(counts, locale.formattedDataSize(stats.fileBytes), QDir::toNativeSeparators(m_path)));
        m_status->setToolTip(m_path);
    }
}

void HistoryPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    search(); // what happened since the last look
}

} // namespace ccs::ui
