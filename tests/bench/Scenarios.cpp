#include "Scenarios.h"

#include "BenchSupport.h"
#include "EmulatorProcess.h"
#include "ReferenceClient.h"
#include "client/CcsSession.h"
#include "inbox/InboxModel.h"
#include "inbox/InboxPage.h"
#include "protocol/Stanza.h"

#include <QApplication>
#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTextStream>
#include <QTimer>

#include <memory>

namespace ccs::bench {

namespace {

constexpr int kWindow = 100;
constexpr int kUpstreamDevices = 100;

std::vector<DownstreamMessage> makeDownstream(const QStringList &tokens, int count, const QString &tag)
{
    std::vector<DownstreamMessage> out;
    out.reserve(size_t(count));
    for (int i = 0; i < count; ++i) {
        DownstreamMessage m;
        m.to = tokens.at(i % tokens.size());
        m.messageId = QStringLiteral("bench-%1-%2").arg(tag).arg(i);
        m.data = QJsonObject {{QStringLiteral("n"), QString::number(i)},
            {QStringLiteral("text"), QStringLiteral("benchmark message")}};
        out.push_back(std::move(m));
    }
    return out;
}

QString runTag()
{
    return QString::number(QDateTime::currentMSecsSinceEpoch(), 36);
}

ConnectionSettings sessionSettings(const EmulatorInfo &info, int connections)
{
    ConnectionSettings s;
    s.host = info.host;
    s.port = info.port;
    s.domain = QStringLiteral("gcm.googleapis.com");
    s.senderId = info.senderId;
    s.apiKey = info.apiKey;
    s.pinnedCertificates = {info.certificate};
    s.windowSize = kWindow;
    s.connectionCount = connections;
    return s;
}

bool openSession(CcsSession &session, int connections, QString *error)
{
    session.open();
    const bool up = spinUntil(
        [&] {
            int authenticated = 0;
            for (const ConnectionStatus &c : session.connections())
                authenticated += c.authenticated ? 1 : 0;
            return authenticated >= connections || session.state() == SessionState::Error;
        },
        20000);
    if (!up || session.state() == SessionState::Error) {
        *error = QStringLiteral("session did not connect: %1").arg(session.lastErrorString());
        return false;
    }
    return true;
}

void closeSession(CcsSession &session)
{
    bool closed = false;
    QObject::connect(&session, &CcsSession::closed, &session, [&closed] { closed = true; });
    session.close();
    spinUntil([&] { return closed; }, 5000);
}

void latencies(const std::vector<qint64> &sent, const std::vector<qint64> &acked, DownstreamResult *r)
{
    std::vector<double> ms;
    ms.reserve(sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
        if (acked[i] > 0 && sent[i] > 0)
            ms.push_back(double(acked[i] - sent[i]) / 1e6);
    }
    r->p50Ms = percentile(ms, 50);
    r->p99Ms = percentile(ms, 99);
}

// The emulator's run time per message: its main thread serves the
// connections' windows and answers (and with --threads 1 every stream);
// its "ccs-emulator-loop-N" threads (named "ccs-emulator-lo" by the kernel's
// 15 characters) run the other loops' TLS and XML.
void splitEmulatorCpu(
    qint64 pid, const std::map<qint64, ThreadRuntime> &ran, int messages, DownstreamResult *r)
{
    qint64 total = 0, server = 0, loops = 0;
    for (const auto &[tid, t] : ran) {
        total += t.ns;
        if (tid == pid)
            server += t.ns;
        else if (t.name.startsWith(QLatin1String("ccs-emulator-lo")))
            loops += t.ns;
    }
    const double perMessage = 1e-3 / std::max(1, messages); // ns -> us per message
    r->emulatorUsPerMsg = double(total) * perMessage;
    r->serverThreadUsPerMsg = double(server) * perMessage;
    r->loopThreadsUsPerMsg = double(loops) * perMessage;
}

} // namespace

DownstreamResult runSessionDownstream(const BenchPrograms &programs, int connections, int messages)
{
    DownstreamResult r;
    EmulatorProcess emulator;
    if (!emulator.start(programs.emulator, programs.dataDir, programs.devices, &r.error, programs.emulatorThreads))
        return r;
    const std::vector<DownstreamMessage> work
        = makeDownstream(emulator.info().registeredTokens, messages, runTag());

    CcsSession session;
    session.setSettings(sessionSettings(emulator.info(), connections));
    // As in ccs-admin, whose traffic page listens: every stanza is then formatted and redacted.
    int trafficLines = 0;
    if (qEnvironmentVariableIsSet("CCS_BENCH_TRAFFIC"))
        QObject::connect(&session, &CcsSession::trafficLogged, &session, [&] { ++trafficLines; });
    if (!openSession(session, connections, &r.error))
        return r;

    std::vector<qint64> sentNs(size_t(messages), 0), ackNs(size_t(messages), 0);
    QElapsedTimer clock;
    int acked = 0, failed = 0, next = 0;
    bool topUpScheduled = false;
    // Keeps the queue a few windows deep: send() is part of what is measured,
    // but a million queued entries up front would only measure the queue.
    const int depth = 2 * kWindow * connections;
    auto topUp = [&] {
        topUpScheduled = false;
        while (next < messages && session.queueLength() < depth) {
            if (!session.send(work[size_t(next)])) {
                ++failed;
            }
            ++next;
        }
    };
    const MessageLedger *ledger = session.ledger();
    QObject::connect(
        ledger, &MessageLedger::entryChanged, &session, [&](int index, MessageState, MessageState to) {
            if (index < 0 || index >= messages)
                return;
            const qint64 now = clock.nsecsElapsed();
            switch (to) {
            case MessageState::InFlight:
                if (sentNs[size_t(index)] == 0)
                    sentNs[size_t(index)] = now;
                break;
            case MessageState::Acked:
                ackNs[size_t(index)] = now;
                ++acked;
                if (!topUpScheduled && next < messages) {
                    topUpScheduled = true;
                    QTimer::singleShot(0, &session, topUp);
                }
                break;
            case MessageState::Nacked:
            case MessageState::Failed:
            case MessageState::Expired:
                ++failed;
                break;
            default:
                break;
            }
        });

    CpuWindow cpu;
    cpu.emulatorPid = emulator.pid();
    clock.start();
    cpu.start();
    topUp();
    const bool done = spinUntil([&] { return acked + failed >= messages; }, 600000);
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    r.emulatorCpu = cpu.emulatorShare(cpu.seconds());
    r.selfCpu = cpu.selfShare(cpu.seconds());
    closeSession(session);
    emulator.stop();
    if (!done || failed > 0) {
        r.error = QStringLiteral("session downstream: %1 ACKed, %2 failed of %3")
                      .arg(acked)
                      .arg(failed)
                      .arg(messages);
        return r;
    }
    r.rate = messages / seconds;
    latencies(sentNs, ackNs, &r);
    r.ok = true;
    return r;
}

DownstreamResult runReferenceDownstream(const BenchPrograms &programs, int connections, int messages)
{
    DownstreamResult r;
    EmulatorProcess emulator;
    if (!emulator.start(programs.emulator, programs.dataDir, programs.devices, &r.error, programs.emulatorThreads))
        return r;
    DownstreamWork work;
    work.window = kWindow;
    {
        const std::vector<DownstreamMessage> messagesToSend
            = makeDownstream(emulator.info().registeredTokens, messages, runTag());
        work.stanzas.reserve(size_t(messages));
        for (const DownstreamMessage &m : messagesToSend)
            work.stanzas.push_back(
                stanza::gcmMessage(m.messageId, m.toJsonBytes())); // as CcsSession writes it
    }
    work.sentNs.assign(size_t(messages), 0);
    work.ackNs.assign(size_t(messages), 0);

    const double cpuBeforeLogin = selfCpuSeconds();
    std::vector<std::unique_ptr<ReferenceClient>> clients;
    for (int i = 0; i < connections; ++i) {
        clients.push_back(std::make_unique<ReferenceClient>(&work));
        if (!clients.back()->login(emulator.info(), &r.error))
            return r;
    }
    CpuWindow cpu;
    cpu.emulatorPid = emulator.pid();
    const auto threadsBefore = threadRuntimes(emulator.pid());
    work.clock.start();
    cpu.start();
    for (auto &c : clients)
        c->startSending();
    const bool done = spinUntil([&] { return work.answered() >= messages; }, 600000);
    const double seconds = double(work.clock.nsecsElapsed()) / 1e9;
    r.emulatorCpu = cpu.emulatorShare(cpu.seconds());
    r.selfCpu = cpu.selfShare(cpu.seconds());
    r.selfCpuSeconds = selfCpuSeconds() - cpu.selfStart;
    splitEmulatorCpu(emulator.pid(), runtimeSince(threadsBefore, threadRuntimes(emulator.pid())), messages, &r);
    for (auto &c : clients)
        c->close();
    r.selfCpuWithLoginSeconds = selfCpuSeconds() - cpuBeforeLogin;
    emulator.stop();
    if (!done || work.nacked > 0) {
        r.error = QStringLiteral("reference downstream: %1 ACKed, %2 NACKed of %3")
                      .arg(work.acked)
                      .arg(work.nacked)
                      .arg(messages);
        return r;
    }
    r.rate = messages / seconds;
    latencies(work.sentNs, work.ackNs, &r);
    r.ok = true;
    return r;
}

UpstreamResult runSessionUpstream(const BenchPrograms &programs, int messages)
{
    UpstreamResult r;
    EmulatorProcess emulator;
    // Few devices: the admin API looks a device up by copying the device list on every request.
    if (!emulator.start(programs.emulator, programs.dataDir, kUpstreamDevices, &r.error))
        return r;
    const EmulatorInfo &info = emulator.info();
    CcsSession session;
    session.setSettings(sessionSettings(info, 1));
    if (!openSession(session, 1, &r.error))
        return r;

    int received = 0, duplicates = 0;
    QObject::connect(&session, &CcsSession::upstreamReceived, &session, [&] { ++received; });
    QObject::connect(&session, &CcsSession::duplicateReceived, &session, [&] { ++duplicates; });

    // The feed: upstream messages offered through the admin API, pipelined on
    // one keep-alive connection with Nagle off (QNetworkAccessManager sends the
    // headers and the body apart, and Nagle with delayed ACKs then caps it near
    // 1,000 requests a second), spread over the devices (each queues at most 20).
    const QByteArray bearer = "Bearer " + info.adminToken.toLatin1();
    QTcpSocket feedSocket;
    feedSocket.connectToHost(QHostAddress::LocalHost, QUrl(info.adminUrl).port());
    if (!spinUntil([&] { return feedSocket.state() == QAbstractSocket::ConnectedState; }, 10000)) {
        r.error = QStringLiteral("cannot reach the admin API");
        return r;
    }
    feedSocket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
    constexpr int kFeedWindow = 64;
    int posted = 0, inFlight = 0, accepted = 0, httpErrors = 0, nextDevice = 0;
    QByteArray responses;
    auto request = [&] {
        const QString token = info.registeredTokens.at(nextDevice++ % info.registeredTokens.size());
        const QByteArray body
            = "{\"data\":{\"n\":\"" + QByteArray::number(posted) + "\",\"text\":\"hello from the device\"}}";
        return "POST /api/v1/devices/" + token.toUtf8() + "/upstream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Authorization: " + bearer + "\r\nContent-Type: application/json\r\nContent-Length: "
            + QByteArray::number(body.size()) + "\r\n\r\n" + body;
    };
    auto feed = [&] {
        QByteArray batch;
        while (inFlight < kFeedWindow && posted + inFlight < messages) {
            batch += request();
            ++inFlight;
        }
        if (!batch.isEmpty())
            feedSocket.write(batch);
    };
    QObject::connect(&feedSocket, &QTcpSocket::readyRead, &session, [&] {
        responses += feedSocket.readAll();
        for (;;) {
            const qsizetype headerEnd = responses.indexOf("\r\n\r\n");
            if (headerEnd < 0)
                break;
            const QByteArray header = responses.left(headerEnd).toLower();
            const qsizetype lengthAt = header.indexOf("content-length:");
            const qsizetype length = lengthAt < 0
                ? 0
                : header.mid(lengthAt + 15, header.indexOf('\r', lengthAt) - lengthAt - 15)
                      .trimmed()
                      .toLongLong();
            if (responses.size() < headerEnd + 4 + length)
                break;
            const int status = header.mid(9, 3).toInt(); // "http/1.1 201"
            responses.remove(0, headerEnd + 4 + length);
            --inFlight;
            if (status == 201) {
                ++accepted;
                ++posted;
            } else if (status == 429) {
                ++r.httpRetries; // that device's queue is full: offered again to the next device
            } else {
                ++httpErrors;
            }
        }
        feed();
    });

    CpuWindow cpu;
    cpu.emulatorPid = emulator.pid();
    cpu.start();
    QTimer debugTimer;
    if (qEnvironmentVariableIsSet("CCS_BENCH_DEBUG")) {
        QObject::connect(&debugTimer, &QTimer::timeout, &session, [&] {
            qInfo("t=%.2fs accepted=%d received=%d inFlight=%d", cpu.seconds(), accepted, received, inFlight);
        });
        debugTimer.start(250);
    }
    feed();
    const bool done = spinUntil([&] { return received >= messages || httpErrors > 0; }, 600000);
    const double seconds = cpu.seconds();
    r.emulatorCpu = cpu.emulatorShare(seconds);
    r.selfCpu = cpu.selfShare(seconds);

    // Every message must have been ACKed to the emulator, not only received.
    QNetworkAccessManager network;
    int emulatorAcked = -1;
    spinUntil(
        [&] {
            QNetworkRequest request(QUrl(info.adminUrl + QStringLiteral("/api/v1/counters")));
            request.setRawHeader("Authorization", bearer);
            QNetworkReply *reply = network.get(request);
            spinUntil([reply] { return reply->isFinished(); }, 5000);
            emulatorAcked = QJsonDocument::fromJson(reply->readAll())
                                .object()
                                .value(QStringLiteral("upstream_acked"))
                                .toInt(-1);
            reply->deleteLater();
            return emulatorAcked >= messages;
        },
        5000);
    closeSession(session);
    emulator.stop();
    if (!done || httpErrors > 0 || emulatorAcked < messages) {
        r.error
            = QStringLiteral("upstream: %1 received, %2 ACKed by the emulator's count, %3 admin API errors "
                             "of %4")
                  .arg(received)
                  .arg(emulatorAcked)
                  .arg(httpErrors)
                  .arg(messages);
        return r;
    }
    r.rate = messages / seconds;
    r.ok = true;
    Q_UNUSED(duplicates)
    Q_UNUSED(accepted)
    return r;
}

int runInboxChild(int messages, double rate)
{
    ui::InboxPage page;
    page.resize(1100, 700);
    page.show();
    spinUntil([] { return false; }, 300); // shown and painted once
    ui::InboxModel *model = page.model();

    QStringList tokens;
    for (int i = 0; i < 50; ++i)
        tokens.append(QStringLiteral("device-token-%1-APA91bHun4MxP5egoKMwt2KZFBaFUH").arg(i));
    const QString category = QStringLiteral("com.example.ccsadmin");
    const QString idPrefix = QStringLiteral("up-1a2b3c4d-");
    // The messages as the session hands them over (parsed: that cost belongs to
    // the upstream figure); only the id differs from one to the next.
    std::vector<UpstreamMessage> pool;
    for (int i = 0; i < 1000; ++i) {
        UpstreamMessage m;
        m.from = tokens.at(i % tokens.size());
        m.category = category;
        m.data = QJsonObject {{QStringLiteral("n"), QString::number(i)},
            {QStringLiteral("text"), QStringLiteral("hello from the device")}};
        pool.push_back(m);
    }

    const qint64 rssBefore = residentKiB();
    QElapsedTimer clock;
    clock.start();
    std::vector<double> gaps;
    gaps.reserve(size_t(double(messages) / rate * 1000.0 * 1.5) + 10000);
    qint64 lastTick = clock.nsecsElapsed();
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(1);
    QObject::connect(&probe, &QTimer::timeout, &page, [&] {
        const qint64 now = clock.nsecsElapsed();
        gaps.push_back(double(now - lastTick) / 1e6);
        lastTick = now;
    });
    // The session hands over what one socket read held: as many messages as the
    // rate says arrived since the last pass, all at once (a stalled loop gets a
    // larger batch next time, as from a socket).
    int appended = 0;
    QTimer feeder;
    feeder.setTimerType(Qt::PreciseTimer);
    // 2 ms: a socket read every 2 ms. CCS_BENCH_FEED_MS changes it (experiments only).
    feeder.setInterval(qEnvironmentVariableIsSet("CCS_BENCH_FEED_MS")
            ? qEnvironmentVariableIntValue("CCS_BENCH_FEED_MS")
            : 2);
    QObject::connect(&feeder, &QTimer::timeout, &page, [&] {
        const int due = int(std::min<double>(messages, rate * double(clock.nsecsElapsed()) / 1e9));
        const qint64 nowMs = QDateTime::currentMSecsSinceEpoch();
        for (; appended < due; ++appended) {
            UpstreamMessage m = pool[size_t(appended) % pool.size()];
            m.messageId = idPrefix + QString::number(appended);
            model->append(m, 1, nowMs, nowMs);
        }
        if (appended >= messages)
            feeder.stop();
    });
    probe.start();
    feeder.start();
    const bool done
        = spinUntil([&] { return appended >= messages; }, int(double(messages) / rate * 3000) + 60000);
    spinUntil([] { return false; }, 200); // the last rows announced and painted
    probe.stop();
    const double seconds = double(clock.nsecsElapsed()) / 1e9;
    const qint64 rssAfter = residentKiB();

    QJsonObject out {{QStringLiteral("ok"), done && model->totalCount() == messages},
        {QStringLiteral("messages"), model->totalCount()}, {QStringLiteral("rate"), rate},
        {QStringLiteral("seconds"), seconds}, {QStringLiteral("stall_p99_ms"), percentile(gaps, 99)},
        {QStringLiteral("stall_max_ms"), gaps.empty() ? 0.0 : *std::max_element(gaps.begin(), gaps.end())},
        {QStringLiteral("rss_before_kib"), rssBefore}, {QStringLiteral("rss_after_kib"), rssAfter},
        {QStringLiteral("model_bytes"), qint64(model->approximateBytes())},
        {QStringLiteral("rows"), model->rowCount()}};
    QTextStream(stdout) << QJsonDocument(out).toJson(QJsonDocument::Compact) << Qt::endl;
    return done ? 0 : 1;
}

InboxResult runInboxIngest(const BenchPrograms &programs, int messages, double rate)
{
    InboxResult r;
    QProcess child;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    child.setProcessEnvironment(env);
    child.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    child.start(programs.self,
        {QStringLiteral("--inbox-child"), QString::number(messages), QString::number(rate, 'f', 0)});
    if (!child.waitForStarted(10000)) {
        r.error = QStringLiteral("cannot start the inbox child: %1").arg(child.errorString());
        return r;
    }
    const int timeout = int(double(messages) / rate * 3000) + 120000;
    if (!child.waitForFinished(timeout)) {
        child.kill();
        child.waitForFinished(2000);
        r.error = QStringLiteral("the inbox child did not finish");
        return r;
    }
    const QJsonObject o = QJsonDocument::fromJson(child.readAllStandardOutput().trimmed()).object();
    r.messages = o.value(QStringLiteral("messages")).toInt();
    r.feedRate = o.value(QStringLiteral("rate")).toDouble();
    r.seconds = o.value(QStringLiteral("seconds")).toDouble();
    r.stallP99Ms = o.value(QStringLiteral("stall_p99_ms")).toDouble();
    r.stallMaxMs = o.value(QStringLiteral("stall_max_ms")).toDouble();
    r.rssBeforeKiB = o.value(QStringLiteral("rss_before_kib")).toInteger();
    r.rssAfterKiB = o.value(QStringLiteral("rss_after_kib")).toInteger();
    r.modelBytes = o.value(QStringLiteral("model_bytes")).toInteger();
    r.bytesPerMessage = messages > 0 ? double(r.rssAfterKiB - r.rssBeforeKiB) * 1024.0 / messages : 0;
    r.ok = o.value(QStringLiteral("ok")).toBool() && child.exitCode() == 0;
    if (!r.ok)
        r.error = QStringLiteral("inbox ingest incomplete: %1 of %2 messages").arg(r.messages).arg(messages);
    return r;
}

namespace {
// The first painted frame is the first backing-store flush of a top-level
// window, which Qt's own "qt.widgets.painting" category reports ("Flushing"):
// no hook in ccs-admin is needed, and what is measured is what a user sees.
StartupResult launch(const QString &program, const QStringList &arguments, bool waitForPaint)
{
    StartupResult r;
    QTemporaryDir home; // no settings, profiles or keychain entries of the user's
    QProcess process;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("QT_LOGGING_RULES"),
        QStringLiteral("*.debug=false\n*.info=false\nqt.widgets.painting.info=true"));
    env.insert(QStringLiteral("CCS_SECRET_STORE"), QStringLiteral("memory"));
    env.insert(QStringLiteral("HOME"), home.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), home.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("XDG_DATA_HOME"), home.filePath(QStringLiteral("data")));
    env.insert(QStringLiteral("XDG_CACHE_HOME"), home.filePath(QStringLiteral("cache")));
    process.setProcessEnvironment(env);
    qint64 paintedNs = -1;
    QByteArray log;
    QElapsedTimer clock;
    QObject::connect(&process, &QProcess::readyReadStandardError, &process, [&] {
        log += process.readAllStandardError();
        if (paintedNs < 0 && log.contains("qt.widgets.painting: Flushing"))
            paintedNs = clock.nsecsElapsed();
        if (log.size() > (1 << 20))
            log = log.right(4096);
    });
    clock.start();
    process.start(program, arguments);
    spinUntil([&] { return paintedNs >= 0 || process.state() == QProcess::NotRunning; }, 60000);
    const qint64 endedNs = clock.nsecsElapsed();
    if (process.state() != QProcess::NotRunning) {
        process.terminate();
        if (!process.waitForFinished(10000)) {
            process.kill();
            process.waitForFinished(2000);
        }
    }
    if (waitForPaint) {
        if (paintedNs < 0) {
            r.error = QStringLiteral("ccs-admin painted no window within 60 s (exit code %1)")
                          .arg(process.exitCode());
            return r;
        }
        r.ms = double(paintedNs) / 1e6;
    } else {
        if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
            r.error = QStringLiteral("ccs-admin --version failed");
            return r;
        }
        r.ms = double(endedNs) / 1e6;
    }
    r.ok = true;
    return r;
}
} // namespace

StartupResult runStartup(const BenchPrograms &programs)
{
    return launch(programs.admin, {}, true);
}

StartupResult runVersionStartup(const BenchPrograms &programs)
{
    return launch(programs.admin, {QStringLiteral("--version")}, false);
}

} // namespace ccs::bench
