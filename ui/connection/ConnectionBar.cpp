#include "ConnectionBar.h"

#include "common/Format.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QRegularExpression>
#include <QStyle>
#include <QToolButton>

namespace ccs::ui {

ConnectionBar::ConnectionBar(QWidget *parent)
    : QWidget(parent)
    , m_profile(new QComboBox(this))
    , m_connect(new QPushButton(tr("Connect"), this))
    , m_state(new QLabel(this))
    , m_profiles(new QToolButton(this))
{
    setObjectName(QStringLiteral("connectionBar"));
    auto layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    layout->setSpacing(8);
    auto label = new QLabel(tr("Pr&ofile"), this);
    label->setBuddy(m_profile);
    m_profile->setObjectName(QStringLiteral("profileCombo"));
    m_profile->setAccessibleName(tr("Connection profile"));
    m_profile->setToolTip(tr("Where to connect: the local emulator, GCM, or one of your profiles"));
    m_profile->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_connect->setObjectName(QStringLiteral("connectButton"));
    m_connect->setToolTip(tr("Connect or disconnect (Ctrl+K)"));
    m_connect->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    m_connect->setAccessibleName(tr("Connect"));
    m_state->setObjectName(QStringLiteral("sessionStateLabel"));
    m_state->setAccessibleName(tr("Connection state"));
    m_state->setTextFormat(Qt::RichText);
    m_profiles->setObjectName(QStringLiteral("profilesButton"));
    m_profiles->setText(tr("Profiles…"));
    m_profiles->setToolTip(tr("Add or edit connection profiles and their API keys (Ctrl+,)"));
    m_profiles->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Comma));
    m_profiles->setAccessibleName(tr("Edit profiles"));
    layout->addWidget(label);
    layout->addWidget(m_profile);
    layout->addWidget(m_connect);
    layout->addSpacing(8);
    layout->addWidget(m_state, 1);
    layout->addWidget(m_profiles);

    connect(
        m_profile, &QComboBox::activated, this, [this] { Q_EMIT profileChosen(m_profile->currentText()); });
    connect(m_connect, &QPushButton::clicked, this, [this] {
        if (m_sessionState == SessionState::Disconnected || m_sessionState == SessionState::Error)
            Q_EMIT connectRequested();
        else
            Q_EMIT disconnectRequested();
    });
    connect(m_profiles, &QToolButton::clicked, this, &ConnectionBar::editProfilesRequested);
    setSessionState(SessionState::Disconnected, 0, 0);
}

void ConnectionBar::setProfiles(const QStringList &names, const QString &current)
{
    QSignalBlocker block(m_profile);
    m_profile->clear();
    m_profile->addItems(names);
    m_profile->setCurrentIndex(std::max(0, m_profile->findText(current)));
}

QString ConnectionBar::currentProfile() const
{
    return m_profile->currentText();
}

void ConnectionBar::setSessionState(SessionState state, int connections, int draining, const QString &detail)
{
    m_sessionState = state;
    const bool idle = state == SessionState::Disconnected || state == SessionState::Error;
    m_connect->setText(idle ? tr("Connect") : tr("Disconnect"));
    m_connect->setAccessibleName(m_connect->text());
    m_profile->setEnabled(idle);
    QString text = QStringLiteral("<span style='color:%1'>●</span>&nbsp;<b>%2</b>")
                       .arg(sessionStateColor(state, palette()).name(), sessionStateLabel(state));
    if (!idle || connections > 0) {
        text += QStringLiteral(" · ")
            + (connections == 1 ? tr("1 connection") : tr("%1 connections").arg(connections));
        text += QStringLiteral(" · ") + tr("%1 draining").arg(draining);
    }
    if (!detail.isEmpty())
        text += QStringLiteral(" · <span style='color:%1'>%2</span>")
                    .arg(state == SessionState::Error ? sessionStateColor(state, palette()).name()
                                                      : palette().color(QPalette::PlaceholderText).name(),
                        detail.toHtmlEscaped());
    m_state->setText(text);
    m_state->setToolTip(detail);
}

QString ConnectionBar::stateText() const
{
    QString plain = m_state->text();
    plain.remove(QRegularExpression(QStringLiteral("<[^>]*>")));
    return plain.replace(QStringLiteral("&nbsp;"), QStringLiteral(" "));
}

} // namespace ccs::ui
