#pragma once

#include "client/SessionTypes.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QToolButton;

namespace ccs::ui {

// The strip at the top: profile, connect/disconnect, state and connections.
class ConnectionBar : public QWidget
{
    Q_OBJECT
public:
    explicit ConnectionBar(QWidget *parent = nullptr);

    void setProfiles(const QStringList &names, const QString &current);
    QString currentProfile() const;
    void setSessionState(SessionState state, int connections, int draining, const QString &detail = {});
    QString stateText() const;

Q_SIGNALS:
    void profileChosen(const QString &name);
    void connectRequested();
    void disconnectRequested();
    void editProfilesRequested();

private:
    QComboBox *m_profile;
    QPushButton *m_connect;
    QLabel *m_state;
    QToolButton *m_profiles;
    SessionState m_sessionState = SessionState::Disconnected;
};

} // namespace ccs::ui
