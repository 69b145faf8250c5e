#include "EmulatorProcess.h"

#include "server/EmulatorSetup.h"

#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace ccs::bench {

EmulatorProcess::~EmulatorProcess()
{
    stop();
}

bool EmulatorProcess::start(
    const QString &program, const QString &dataDir, int devices, QString *error, int threads)
{
    m_process.setProgram(program);
    QStringList arguments {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--json"),
        QStringLiteral("--data-dir"), dataDir, QStringLiteral("--devices"), QString::number(devices),
        // Answers at once and in order: the figures measure the client, not the
        // emulator's simulated latency (its default jitter of 0-4 ms per answer).
        QStringLiteral("--answer-jitter-ms"), QStringLiteral("0")};
    if (threads > 0)
        arguments << QStringLiteral("--threads") << QString::number(threads);
    m_process.setArguments(arguments);
    // Its per-connection info lines are not part of the work being measured.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_LOGGING_RULES"), QStringLiteral("ccs.*.info=false\nccs.*.debug=false"));
    m_process.setProcessEnvironment(env);
    m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    m_process.start();
    if (!m_process.waitForStarted(10000)) {
        *error = QStringLiteral("cannot start %1: %2").arg(program, m_process.errorString());
        return false;
    }
    QElapsedTimer timer;
    timer.start();
    while (!m_process.canReadLine() && timer.elapsed() < 20000) {
        if (!m_process.waitForReadyRead(1000) && m_process.state() != QProcess::Running)
            break;
    }
    const QByteArray line = m_process.readLine().trimmed();
    const QJsonObject json = QJsonDocument::fromJson(line).object();
    if (json.isEmpty()) {
        *error = QStringLiteral("ccs-emulator printed no --json line");
        stop();
        return false;
    }
    m_info.host = json.value(QStringLiteral("host")).toString();
    m_info.port = quint16(json.value(QStringLiteral("port")).toInt());
    m_info.senderId = json.value(QStringLiteral("sender_id")).toString();
    m_info.adminUrl = json.value(QStringLiteral("admin_url")).toString();
    m_info.adminToken = json.value(QStringLiteral("admin_token")).toString();
    QString keyError;
    if (!emulator::readApiKeyFile(
            json.value(QStringLiteral("api_key_file")).toString(), &m_info.apiKey, &keyError)) {
        *error = keyError;
        stop();
        return false;
    }
    const auto certs = QSslCertificate::fromPath(json.value(QStringLiteral("certificate")).toString());
    if (certs.isEmpty()) {
        *error = QStringLiteral("cannot read the emulator's certificate");
        stop();
        return false;
    }
    m_info.certificate = certs.first();
    m_info.registeredTokens.clear();
    for (const QJsonValue &device : json.value(QStringLiteral("devices")).toArray()) {
        const QJsonObject d = device.toObject();
        if (d.value(QStringLiteral("kind")).toString() == QLatin1String("registered"))
            m_info.registeredTokens.append(d.value(QStringLiteral("token")).toString());
    }
    if (m_info.port == 0 || m_info.registeredTokens.isEmpty()) {
        *error = QStringLiteral("ccs-emulator announced no port or no registered device");
        stop();
        return false;
    }
    return true;
}

void EmulatorProcess::stop()
{
    if (m_process.state() == QProcess::NotRunning)
        return;
    m_process.terminate();
    if (!m_process.waitForFinished(5000)) {
        m_process.kill();
        m_process.waitForFinished(2000);
    }
}

} // namespace ccs::bench
