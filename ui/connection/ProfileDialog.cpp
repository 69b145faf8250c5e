#include "ProfileDialog.h"

#include "common/MessageBanner.h"

#include <QButtonGroup>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace ccs::ui {

using storage::Profile;
using storage::SecretResult;

ProfileDialog::ProfileDialog(storage::ProfileStore *profiles, storage::SecretStore *secrets, QWidget *parent)
    : QDialog(parent)
    , m_profiles(profiles)
    , m_secrets(secrets)
    , m_banner(new MessageBanner(this))
    , m_list(new QListWidget(this))
    , m_name(new QLineEdit(this))
    , m_host(new QLineEdit(this))
    , m_domain(new QLineEdit(this))
    , m_senderId(new QLineEdit(this))
    , m_apiKey(new QLineEdit(this))
    , m_certificate(new QLineEdit(this))
    , m_port(new QSpinBox(this))
    , m_window(new QSpinBox(this))
    , m_connections(new QSpinBox(this))
    , m_systemCas(new QRadioButton(tr("System certificate authorities"), this))
    , m_pinned(new QRadioButton(tr("Only this certificate (pinned):"), this))
    , m_browse(new QPushButton(tr("Browse…"), this))
    , m_save(new QPushButton(tr("Save"), this))
    , m_remove(new QPushButton(tr("Delete"), this))
    , m_duplicate(new QPushButton(tr("Duplicate"), this))
{
    setObjectName(QStringLiteral("profileDialog"));
    setWindowTitle(tr("Connection profiles"));
    auto outer = new QVBoxLayout(this);
    // Two lines kept for the banner whether it shows or not: the form never moves under the pointer.
    auto bannerSlot = new QWidget(this);
    bannerSlot->setObjectName(QStringLiteral("bannerSlot"));
    outer->addWidget(bannerSlot);
    m_banner->reserveSpace(bannerSlot, 2);
    auto columns = new QHBoxLayout;
    outer->addLayout(columns, 1);

    auto left = new QVBoxLayout;
    m_list->setObjectName(QStringLiteral("profileList"));
    m_list->setAccessibleName(tr("Profiles"));
    m_list->setMinimumWidth(180);
    left->addWidget(m_list, 1);
    auto listButtons = new QHBoxLayout;
    auto add = new QPushButton(tr("New"), this);
    add->setObjectName(QStringLiteral("newProfileButton"));
    add->setToolTip(tr("Start a new profile"));
    m_duplicate->setObjectName(QStringLiteral("duplicateProfileButton"));
    m_duplicate->setToolTip(
        tr("Copy the selected profile under a new name (to add a sender ID and key to a built-in one)"));
    m_remove->setObjectName(QStringLiteral("deleteProfileButton"));
    m_remove->setToolTip(tr("Delete the profile and its stored API key"));
    listButtons->addWidget(add);
    listButtons->addWidget(m_duplicate);
    listButtons->addWidget(m_remove);
    left->addLayout(listButtons);
    columns->addLayout(left);

    auto form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    m_name->setObjectName(QStringLiteral("profileName"));
    m_host->setObjectName(QStringLiteral("profileHost"));
    m_port->setObjectName(QStringLiteral("profilePort"));
    m_port->setRange(1, 65535);
    m_domain->setObjectName(QStringLiteral("profileDomain"));
    m_domain->setToolTip(tr("The XMPP domain; the server's certificate must name it"));
    m_senderId->setObjectName(QStringLiteral("profileSenderId"));
    m_senderId->setToolTip(tr("Your project's sender ID (the number, without @gcm.googleapis.com)"));
    m_apiKey->setObjectName(QStringLiteral("profileApiKey"));
    m_apiKey->setEchoMode(QLineEdit::Password);
    m_apiKey->setAccessibleName(tr("API key"));
    m_apiKey->setToolTip(
        tr("Stored in the system keychain, never in a file. It is not shown again once saved."));
    m_certificate->setObjectName(QStringLiteral("profileCertificate"));
    m_certificate->setAccessibleName(tr("Pinned certificate file"));
    m_certificate->setToolTip(tr("The PEM or DER certificate the server must present"));
    m_browse->setAccessibleName(tr("Browse for the certificate"));
    m_window->setRange(1, 100);
    m_window->setToolTip(tr("Un-answered messages allowed per connection (CCS allows 100)"));
    m_connections->setRange(1, 1000);
    m_connections->setToolTip(tr("Parallel connections, each with its own window"));
    form->addRow(tr("&Name"), m_name);
    form->addRow(tr("&Host"), m_host);
    form->addRow(tr("&Port"), m_port);
    form->addRow(tr("XMPP &domain"), m_domain);
    form->addRow(tr("&Sender ID"), m_senderId);
    form->addRow(tr("API &key"), m_apiKey);
    auto trustBox = new QVBoxLayout;
    auto group = new QButtonGroup(this);
    group->addButton(m_systemCas);
    group->addButton(m_pinned);
    trustBox->addWidget(m_systemCas);
    trustBox->addWidget(m_pinned);
    auto certRow = new QHBoxLayout;
    certRow->addWidget(m_certificate, 1);
    certRow->addWidget(m_browse);
    trustBox->addLayout(certRow);
    form->addRow(tr("Trust"), trustBox);
    form->addRow(tr("&Window"), m_window);
    form->addRow(tr("&Connections"), m_connections);
    columns->addLayout(form, 1);

    auto buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_save->setObjectName(QStringLiteral("saveProfileButton"));
    m_save->setDefault(true);
    buttons->addButton(m_save, QDialogButtonBox::ActionRole);
    outer->addWidget(buttons);

    // Tab reads the dialog as it is laid out: the list and its buttons, the form, then the buttons below.
    QWidget *const readingOrder[] = {m_list, add, m_duplicate, m_remove, m_name, m_host, m_port, m_domain,
        m_senderId, m_apiKey, m_systemCas, m_pinned, m_certificate, m_browse, m_window, m_connections};
    for (size_t i = 1; i < std::size(readingOrder); ++i)
        setTabOrder(readingOrder[i - 1], readingOrder[i]);
    setTabOrder(m_connections, buttons);

    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_save, &QPushButton::clicked, this, &ProfileDialog::saveCurrent);
    connect(add, &QPushButton::clicked, this, &ProfileDialog::newProfile);
    connect(m_duplicate, &QPushButton::clicked, this, &ProfileDialog::duplicateProfile);
    connect(m_remove, &QPushButton::clicked, this, &ProfileDialog::removeProfile);
    connect(m_browse, &QPushButton::clicked, this, &ProfileDialog::chooseCertificate);
    connect(m_pinned, &QRadioButton::toggled, this, &ProfileDialog::updateEnabled);
    connect(m_list, &QListWidget::currentTextChanged, this, &ProfileDialog::showProfile);
    connect(m_secrets, &storage::SecretStore::fellBackToMemory, this, [this](const QString &reason) {
        if (m_saving)
            return; // the outcome of the save says it, once
        m_banner->showMessage(tr("%1 API keys you enter are kept for this session only and must be entered "
                                 "again after a restart.")
                                  .arg(reason),
            MessageBanner::Kind::Warning);
    });
    reloadList(m_profiles->lastProfile());
    resize(720, 460);
}

void ProfileDialog::reloadList(const QString &select)
{
    QSignalBlocker block(m_list);
    m_list->clear();
    for (const Profile &p : m_profiles->profiles()) {
        auto item = new QListWidgetItem(p.name, m_list);
        if (p.builtIn)
            item->setToolTip(tr("Built-in profile"));
    }
    const auto matches = m_list->findItems(select, Qt::MatchExactly);
    m_list->setCurrentItem(matches.isEmpty() ? m_list->item(0) : matches.first());
    showProfile(m_list->currentItem() ? m_list->currentItem()->text() : QString());
}

void ProfileDialog::selectProfile(const QString &name)
{
    reloadList(name);
}

QString ProfileDialog::currentName() const
{
    return m_name->text().trimmed();
}

void ProfileDialog::showProfile(const QString &name)
{
    const auto profile = m_profiles->profile(name);
    const Profile p = profile.value_or(Profile {});
    m_builtIn = p.builtIn;
    m_name->setText(p.name);
    m_host->setText(p.localEmulator ? tr("(started in this program)") : p.host);
    m_port->setValue(p.port > 0 ? p.port : 5235);
    m_domain->setText(p.domain);
    m_senderId->setText(p.senderId);
    m_certificate->setText(p.pinnedCertificatePath);
    (p.trust == storage::TrustMode::PinnedCertificate ? m_pinned : m_systemCas)->setChecked(true);
    m_window->setValue(p.windowSize);
    m_connections->setValue(p.connectionCount);
    m_apiKey->clear();
    m_keyStored = false;
    m_apiKey->setPlaceholderText(p.localEmulator ? tr("generated by the emulator") : tr("not stored"));
    if (!p.localEmulator && !p.name.isEmpty()) {
        // Only whether a key exists: the key itself is never put back into the field.
        m_secrets->readKey(p.name, this, [this, name = p.name](const SecretResult &r) {
            if (m_name->text() != name)
                return;
            m_keyStored = r.ok();
            m_apiKey->setPlaceholderText(r.ok()
                    ? (r.sessionOnly ? tr("kept for this session — type to replace")
                                     : tr("stored in the keychain — type to replace"))
                    : tr("not stored"));
            if (r.status == SecretResult::Status::Unavailable || r.status == SecretResult::Status::Error)
                m_banner->showMessage(r.error, MessageBanner::Kind::Warning);
        });
    }
    updateEnabled();
}

void ProfileDialog::updateEnabled()
{
    const bool editable = !m_builtIn;
    for (QWidget *w : std::initializer_list<QWidget *> {m_name, m_host, m_port, m_domain, m_senderId,
             m_apiKey, m_systemCas, m_pinned, m_window, m_connections})
        w->setEnabled(editable);
    m_certificate->setEnabled(editable && m_pinned->isChecked());
    m_browse->setEnabled(editable && m_pinned->isChecked());
    m_save->setEnabled(editable);
    m_remove->setEnabled(editable);
    if (m_builtIn)
        m_banner->showMessage(
            tr("Built-in profiles cannot be changed. Duplicate one to add your sender ID and API key."),
            MessageBanner::Kind::Information);
    else if (m_banner->kind() == MessageBanner::Kind::Information)
        m_banner->clear();
}

void ProfileDialog::chooseCertificate()
{
    const QString path = QFileDialog::getOpenFileName(this, tr("Certificate to pin"), QString(),
        tr("Certificates (*.pem *.crt *.cer *.der);;All files (*)"));
    if (!path.isEmpty())
        m_certificate->setText(path);
}

Profile ProfileDialog::formProfile() const
{
    Profile p;
    p.name = m_name->text().trimmed();
    p.host = m_host->text().trimmed();
    p.port = quint16(m_port->value());
    p.domain = m_domain->text().trimmed();
    p.senderId = m_senderId->text().trimmed();
    p.trust = m_pinned->isChecked() ? storage::TrustMode::PinnedCertificate : storage::TrustMode::SystemCas;
    p.pinnedCertificatePath = m_certificate->text().trimmed();
    p.windowSize = m_window->value();
    p.connectionCount = m_connections->value();
    return p;
}

bool ProfileDialog::saveCurrent()
{
    const Profile p = formProfile();
    QString error;
    if (!m_profiles->save(p, &error)) {
        m_banner->showMessage(error, MessageBanner::Kind::Error);
        return false;
    }
    const QString key = m_apiKey->text();
    m_apiKey->clear(); // never kept in the form once handed over
    if (key.isEmpty()) {
        m_banner->showMessage(tr("Saved \"%1\".").arg(p.name), MessageBanner::Kind::Positive);
        reloadList(p.name);
        return true;
    }
    m_banner->showMessage(tr("Saving \"%1\" and storing its API key…").arg(p.name));
    m_saving = true;
    m_secrets->writeKey(p.name, key, this, [this, name = p.name](const SecretResult &r) {
        m_saving = false;
        if (r.ok() && r.sessionOnly) {
            m_banner->showMessage(
                tr("Saved \"%1\". %2")
                    .arg(
                        name, r.error.isEmpty() ? tr("The API key is kept for this session only.") : r.error),
                MessageBanner::Kind::Warning);
        } else if (r.ok()) {
            m_banner->showMessage(tr("Saved \"%1\"; its API key is in the system keychain.").arg(name),
                MessageBanner::Kind::Positive);
        } else {
            m_banner->showMessage(tr("Saved \"%1\", but its API key was not stored: %2").arg(name, r.error),
                MessageBanner::Kind::Error);
        }
        if (r.ok())
            Q_EMIT keySaved(name, r.sessionOnly);
        const MessageBanner::Kind kind = m_banner->kind();
        const QString text = m_banner->text();
        reloadList(name);
        m_banner->showMessage(text, kind); // keep the outcome visible after the reload
    });
    return true;
}

void ProfileDialog::newProfile()
{
    QSignalBlocker block(m_list);
    m_list->clearSelection();
    m_builtIn = false;
    showProfile(QString());
    m_name->setText(tr("My CCS server"));
    m_host->setText(QStringLiteral("gcm.googleapis.com"));
    m_port->setValue(5235);
    m_name->setFocus();
    m_name->selectAll();
}

void ProfileDialog::duplicateProfile()
{
    const QString original = m_name->text();
    m_builtIn = false;
    updateEnabled();
    if (m_host->text().startsWith(QLatin1Char('(')))
        m_host->setText(QStringLiteral("127.0.0.1"));
    m_name->setText(tr("%1 (mine)").arg(original));
    m_apiKey->setPlaceholderText(tr("not stored"));
    m_name->setFocus();
    m_name->selectAll();
}

void ProfileDialog::removeProfile()
{
    const QString name = m_name->text().trimmed();
    QString error;
    if (!m_profiles->remove(name, &error)) {
        m_banner->showMessage(error, MessageBanner::Kind::Error);
        return;
    }
    m_secrets->removeKey(name, this, [](const SecretResult &) {});
    reloadList(QString::fromLatin1(storage::ProfileStore::kLocalEmulator));
    m_banner->showMessage(tr("Deleted \"%1\" and its API key.").arg(name), MessageBanner::Kind::Information);
}

} // namespace ccs::ui
