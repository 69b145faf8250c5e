#pragma once

#include <QProcess>
#include <QSslCertificate>
#include <QString>
#include <QStringList>

namespace ccs::bench {

// What ccs-emulator --json announced, plus the API key read from its file.
struct EmulatorInfo {
    QString host;
    quint16 port = 0;
    QString senderId;
    QString apiKey; // held in memory only; never printed
    QSslCertificate certificate;
    QString adminUrl;
    QString adminToken;
    QStringList registeredTokens; // devices that take messages at once
};

// ccs-emulator in its own process, so its CPU time is its own and can be shown.
class EmulatorProcess
{
public:
    EmulatorProcess() = default;
    ~EmulatorProcess();
    EmulatorProcess(const EmulatorProcess &) = delete;
    EmulatorProcess &operator=(const EmulatorProcess &) = delete;

    // dataDir keeps the certificate and credentials between runs.
    // threads > 0: ccs-emulator --threads.
    bool start(const QString &program, const QString &dataDir, int devices, QString *error, int threads = 0);
    void stop(); // SIGTERM (orderly: closes every stream), SIGKILL after 5 s
    qint64 pid() const { return m_process.processId(); }
    const EmulatorInfo &info() const { return m_info; }

private:
    QProcess m_process;
    EmulatorInfo m_info;
};

} // namespace ccs::bench
