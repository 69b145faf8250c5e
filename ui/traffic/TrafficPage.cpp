#include "TrafficPage.h"

#include "TrafficLogModel.h"
#include "common/FollowingTableView.h"
#include "common/Format.h"

#include <QDateTime>
#include <QFileDialog>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSaveFile>
#include <QSplitter>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

namespace ccs::ui {

TrafficPage::TrafficPage(QWidget *parent)
    : QWidget(parent)
    , m_model(new TrafficLogModel(this))
    , m_search(new QLineEdit(this))
    , m_count(new QLabel(this))
    , m_clear(new QToolButton(this))
    , m_export(new QToolButton(this))
    , m_view(new FollowingTableView(this))
    , m_details(new QPlainTextEdit(this))
    , m_splitter(new QSplitter(Qt::Vertical, this))
{
    setObjectName(QStringLiteral("trafficPage"));

    auto layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 6, 0, 0);
    layout->setSpacing(4);
    auto bar = new QHBoxLayout;
    bar->setContentsMargins(6, 0, 6, 0);
    m_search->setObjectName(QStringLiteral("trafficSearch"));
    m_search->setPlaceholderText(tr("Search stanzas (message id, token, NACK code, XML)…"));
    m_search->setClearButtonEnabled(true);
    m_search->setAccessibleName(tr("Traffic search"));
    m_search->setToolTip(tr("Show only stanzas containing this text"));
    m_count->setForegroundRole(QPalette::PlaceholderText);
    m_clear->setObjectName(QStringLiteral("trafficClear"));
    m_clear->setText(tr("Clear"));
    m_clear->setToolTip(tr("Forget the stanzas logged so far"));
    m_export->setObjectName(QStringLiteral("trafficExport"));
    m_export->setText(tr("Export…"));
    m_export->setToolTip(tr("Save the stanzas shown to a text file (credentials stay redacted)"));
    m_export->setAccessibleName(tr("Export traffic log"));
    bar->addWidget(m_search, 1);
    bar->addWidget(m_count);
    bar->addWidget(m_clear);
    bar->addWidget(m_export);
    layout->addLayout(bar);

    m_view->setObjectName(QStringLiteral("trafficView"));
    m_view->setAccessibleName(tr("Traffic log"));
    m_view->setModel(m_model);
    m_view->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 6);
    auto fit = [&](int column, const QString &sample) {
        m_view->horizontalHeader()->resizeSection(
            column, m_view->fontMetrics().horizontalAdvance(sample) + 18);
    };
    fit(TrafficLogModel::TimeColumn, QStringLiteral("00:00:00.000"));
    fit(TrafficLogModel::DirectionColumn, QStringLiteral("→ out"));
    fit(TrafficLogModel::ConnectionColumn, QStringLiteral("Conn"));

    m_details->setObjectName(QStringLiteral("trafficDetails"));
    m_details->setAccessibleName(tr("Stanza"));
    m_details->setReadOnly(true);
    m_details->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_details->setPlaceholderText(tr("Select a stanza to see it pretty-printed."));
    m_splitter->setObjectName(QStringLiteral("trafficSplitter"));
    m_splitter->addWidget(m_view);
    m_splitter->addWidget(m_details);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    m_splitter->setChildrenCollapsible(false);
    layout->addWidget(m_splitter, 1);

    auto filterTimer = new QTimer(this);
    filterTimer->setSingleShot(true);
    filterTimer->setInterval(200);
    connect(filterTimer, &QTimer::timeout, this, [this] {
        m_model->setFilterText(m_search->text().trimmed());
        updateCount();
    });
    connect(m_search, &QLineEdit::textChanged, filterTimer, qOverload<>(&QTimer::start));
    connect(
        m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &TrafficPage::showDetails);
    connect(m_clear, &QToolButton::clicked, m_model, &TrafficLogModel::clear);
    connect(m_export, &QToolButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export traffic log"), QStringLiteral("traffic.log"), tr("Text (*.log *.txt)"));
        QString error;
        if (!path.isEmpty() && !exportTo(path, &error))
            Q_EMIT exportFailed(error);
    });
    auto countTimer = new QTimer(this);
    countTimer->setInterval(500);
    connect(countTimer, &QTimer::timeout, this, &TrafficPage::updateCount);
    countTimer->start();
    updateCount();
}

void TrafficPage::updateCount()
{
    QString text = tr("%1 stanzas").arg(formatCount(m_model->announcedRecords()));
    if (m_model->droppedCount())
        text += tr(" · %1 older dropped").arg(formatCount(m_model->droppedCount()));
    m_count->setText(text);
    m_count->setToolTip(
        tr("The log keeps the newest %1 stanzas in memory").arg(formatCount(m_model->capacity())));
}

void TrafficPage::showDetails()
{
    const QModelIndex current = m_view->currentIndex();
    if (!current.isValid()) {
        m_details->clear();
        return;
    }
    m_details->setPlainText(TrafficLogModel::prettyPrint(current.data(TrafficLogModel::XmlRole).toString()));
}

bool TrafficPage::exportTo(const QString &path, QString *error)
{
    m_model->flush();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text)) {
        if (error)
            *error = tr("Cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    const int rows = m_model->rowCount();
    for (int row = 0; row < rows; ++row) {
        const QModelIndex index = m_model->index(row, 0);
        const qint64 at = index.data(TrafficLogModel::TimeRole).toLongLong();
        const bool in = index.data(TrafficLogModel::DirectionRole).toInt() == int(TrafficDirection::In);
        const QString header
            = QStringLiteral("--- %1 %2 connection %3\n")
                  .arg(QDateTime::fromMSecsSinceEpoch(at).toString(Qt::ISODateWithMs),
                      in ? QStringLiteral("IN ") : QStringLiteral("OUT"),
                      m_model->index(row, TrafficLogModel::ConnectionColumn).data().toString());
        file.write(header.toUtf8());
        file.write(TrafficLogModel::prettyPrint(index.data(TrafficLogModel::XmlRole).toString()).toUtf8());
        file.write("\n");
    }
    if (!file.commit()) {
        if (error)
            *error = tr("Cannot save %1: %2").arg(path, file.errorString());
        return false;
    }
    Q_EMIT exported(path, rows);
    return true;
}

} // namespace ccs::ui
