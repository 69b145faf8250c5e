#pragma once

#include "storage/ProfileStore.h"
#include "storage/SecretStore.h"

#include <QDialog>

class QButtonGroup;
class QLineEdit;
class QListWidget;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace ccs::ui {

class MessageBanner;

// Profiles and their API keys. The key goes to the SecretStore only and is
// never shown again: the field only says whether one is stored.
class ProfileDialog : public QDialog
{
    Q_OBJECT
public:
    ProfileDialog(storage::ProfileStore *profiles, storage::SecretStore *secrets, QWidget *parent = nullptr);

    void selectProfile(const QString &name);
    QString currentName() const;
    // Saves the form (profile to settings, key to the store); the result is shown inline.
    bool saveCurrent();
    MessageBanner *banner() const { return m_banner; }

Q_SIGNALS:
    void keySaved(const QString &profile, bool sessionOnly);

private:
    void reloadList(const QString &select);
    void showProfile(const QString &name);
    void newProfile();
    void duplicateProfile();
    void removeProfile();
    void updateEnabled();
    void chooseCertificate();
    storage::Profile formProfile() const;

    storage::ProfileStore *m_profiles;
    storage::SecretStore *m_secrets;
    MessageBanner *m_banner;
    QListWidget *m_list;
    QLineEdit *m_name, *m_host, *m_domain, *m_senderId, *m_apiKey, *m_certificate;
    QSpinBox *m_port, *m_window, *m_connections;
    QRadioButton *m_systemCas, *m_pinned;
    QPushButton *m_browse, *m_save, *m_remove, *m_duplicate;
    bool m_builtIn = false;
    bool m_keyStored = false;
    bool m_saving = false;
};

} // namespace ccs::ui
