// Secrets in the window: with the profile editor open over the main window,
// the API key field echoes as a password while typed, is cleared once saved,
// and no widget's text (labels, fields, tool tips, item views, the banner)
// nor the settings file holds the key; a screenshot of both is taken.

#include "connection/ProfileDialog.h"
#include "mainwindow/MainWindow.h"

#include <QAbstractItemView>
#include <QApplication>
#include <QDirIterator>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTextEdit>

using namespace ccs;
using namespace ccs::ui;

namespace {

const QString kKey = QStringLiteral("ui-secret-key-3c9a71e0b24d");

// Every visible string any widget of every top-level window holds.
QStringList allWidgetTexts()
{
    QStringList texts;
    for (QWidget *top : QApplication::topLevelWidgets()) {
        QList<QWidget *> widgets = top->findChildren<QWidget *>();
        widgets.prepend(top);
        for (QWidget *w : std::as_const(widgets)) {
            texts << w->windowTitle() << w->toolTip() << w->accessibleName() << w->statusTip();
            if (auto *e = qobject_cast<QLineEdit *>(w))
                texts << e->displayText() << e->placeholderText()
                      << (e->echoMode() == QLineEdit::Normal ? e->text() : QString());
            if (auto *l = qobject_cast<QLabel *>(w))
                texts << l->text();
            if (auto *b = qobject_cast<QAbstractButton *>(w))
                texts << b->text();
            if (auto *t = qobject_cast<QPlainTextEdit *>(w))
                texts << t->toPlainText();
            if (auto *t = qobject_cast<QTextEdit *>(w))
                texts << t->toPlainText();
            if (auto *v = qobject_cast<QAbstractItemView *>(w); v && v->model()) {
                const QAbstractItemModel *m = v->model();
                for (int r = 0; r < std::min(m->rowCount(), 500); ++r)
                    for (int c = 0; c < m->columnCount(); ++c)
                        texts << m->index(r, c).data(Qt::DisplayRole).toString()
                              << m->index(r, c).data(Qt::ToolTipRole).toString();
            }
        }
    }
    return texts;
}

QByteArray allFilesUnder(const QString &dir)
{
    QByteArray all;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        QFile file(it.next());
        if (file.open(QIODevice::ReadOnly))
            all += file.readAll();
    }
    return all;
}

} // namespace

class TestSecretsUi : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void keyNeverShownNorStored();
};

void TestSecretsUi::keyNeverShownNorStored()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    MainWindow::Options options;
    options.secrets = std::make_unique<storage::MemorySecretStore>();
    options.profilesIni = dir.filePath(QStringLiteral("ccs-admin.ini"));
    options.autoConnect = false;
    options.restoreLayout = false;
    MainWindow window(std::move(options));
    window.resize(1200, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    ProfileDialog dialog(window.profiles(), window.secrets(), &window);
    dialog.show();
    QVERIFY(QTest::qWaitForWindowExposed(&dialog));
    auto *newButton = dialog.findChild<QPushButton *>(QStringLiteral("newProfileButton"));
    QVERIFY(newButton);
    QTest::mouseClick(newButton, Qt::LeftButton);
    auto *name = dialog.findChild<QLineEdit *>(QStringLiteral("profileName"));
    auto *host = dialog.findChild<QLineEdit *>(QStringLiteral("profileHost"));
    auto *sender = dialog.findChild<QLineEdit *>(QStringLiteral("profileSenderId"));
    auto *key = dialog.findChild<QLineEdit *>(QStringLiteral("profileApiKey"));
    QVERIFY(name && host && sender && key);
    name->clear();
    QTest::keyClicks(name, QStringLiteral("Secret test"));
    host->clear();
    QTest::keyClicks(host, QStringLiteral("127.0.0.1"));
    sender->clear();
    QTest::keyClicks(sender, QStringLiteral("123456789012"));
    QTest::keyClicks(key, kKey);

    // While typed: the field holds it, but shows only bullets.
    QCOMPARE(key->text(), kKey);
    QVERIFY(key->echoMode() != QLineEdit::Normal);
    QVERIFY(!key->displayText().contains(kKey));
    const QImage typing = window.grab().toImage();
    QVERIFY(!typing.isNull());
    for (const QString &t : allWidgetTexts())
        QVERIFY2(!t.contains(kKey), qPrintable(t));

    QSignalSpy saved(&dialog, &ProfileDialog::keySaved);
    QVERIFY(dialog.saveCurrent());
    QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 1, 5000);
    // After save: gone from the form, from every widget, from the settings file.
    QVERIFY(key->text().isEmpty());
    const QImage afterSave = dialog.grab().toImage();
    QVERIFY(!afterSave.isNull());
    if (const QString shots = qEnvironmentVariable("CCS_UI_SCREENSHOT_DIR"); !shots.isEmpty()) {
        typing.save(shots + QStringLiteral("/secrets-window.png"));
        afterSave.save(shots + QStringLiteral("/secrets-profile-dialog.png"));
    }
    for (const QString &t : allWidgetTexts())
        QVERIFY2(!t.contains(kKey), qPrintable(t));
    // Selecting the profile again shows that a key is stored, never the key.
    dialog.selectProfile(QStringLiteral("Secret test"));
    QTest::qWait(50);
    QVERIFY(key->text().isEmpty());
    for (const QString &t : allWidgetTexts())
        QVERIFY2(!t.contains(kKey), qPrintable(t));
    // The key is in the secret store, nowhere on disk.
    bool read = false;
    window.secrets()->readKey(QStringLiteral("Secret test"), this,
        [&](const storage::SecretResult &r) { read = r.ok() && r.secret == kKey; });
    QTRY_VERIFY(read);
    const QByteArray files = allFilesUnder(dir.path())
        + allFilesUnder(QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation));
    QVERIFY(files.contains("Secret test"));
    QVERIFY(!files.contains(kKey.toUtf8()));
    QVERIFY(!files.contains(kKey.toUtf8().toBase64()));
    dialog.close();
}

QTEST_MAIN(TestSecretsUi)
#include "tst_secrets_ui.moc"
