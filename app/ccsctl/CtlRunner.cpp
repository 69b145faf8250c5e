#include "CtlRunner.h"

#include "history/HistoryRecorder.h"
#include "history/HistoryWriter.h"
#include "protocol/JsonCodec.h"
#include "storage/ProfileStore.h"
#include "storage/SecretStore.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QJsonValue>
#include <QTextStream>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace ccs::ctl {

namespace {

// --count N: copies kept unanswered in the session, per connection (five windows of
// 100), and how many must be answered before more are handed over.
constexpr int kFeedAhead = 512;
constexpr int kFeedChunk = 128;
// stdout is flushed when the event loop is about to wait (see CtlRunner::start) and
// before anything goes to stderr, not after every line: a run of 50,000 messages
// prints 150,000 lines, and a write per line was a tenth of ccsctl's CPU.
void writeLine(FILE *stream, std::string_view line)
{
    if (stream != stdout)
        std::fflush(stdout); // what came before stays before, in a file that takes both
    std::fwrite(line.data(), 1, line.size(), stream);
    std::fputc('\n', stream);
    if (stream != stdout)
        std::fflush(stream);
}

void writeLine(FILE *stream, const QByteArray &line)
{
    writeLine(stream, std::string_view(line.constData(), size_t(line.size())));
}

// A readable line is built in a std::string: QByteArray's appends cost several
// times more, and every message prints three lines.
void appendNumber(std::string &line, qint64 n)
{
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    line.append(digits, size_t(end - digits));
}

void appendUtf8(std::string &line, const QString &text)
{
    // ASCII (ids, tokens) is copied as it is checked; anything else goes through toUtf8().
    const auto *const p = reinterpret_cast<const char16_t *>(text.utf16());
    const size_t at = line.size();
    const size_t n = size_t(text.size());
    line.resize(at + n);
    char *const dst = line.data() + at;
    size_t i = 0;
    // Four UTF-16 units at a time while they are all ASCII.
    for (; i + 4 <= n; i += 4) {
        quint64 units;
        std::memcpy(&units, p + i, sizeof units);
        if (units & 0xff80ff80ff80ff80ULL)
            break;
        dst[i] = char(p[i]);
        dst[i + 1] = char(p[i + 1]);
        dst[i + 2] = char(p[i + 2]);
        dst[i + 3] = char(p[i + 3]);
    }
    for (; i < n; ++i) {
        if (p[i] >= 0x80) {
            line.resize(at);
            const QByteArray utf8 = text.toUtf8();
            line.append(utf8.constData(), size_t(utf8.size()));
            return;
        }
        dst[i] = char(p[i]);
    }
}

// "%8.3f " of the seconds since start, as QString::arg(ms / 1000.0, 8, 'f', 3) writes
// them: whole milliseconds have exactly three decimals.
void appendSeconds(std::string &line, qint64 ms)
{
    char text[32];
    char *p = text;
    if (ms < 0) {
        *p++ = '-';
        ms = -ms;
    }
    p = std::to_chars(p, text + 24, ms / 1000).ptr;
    *p++ = '.';
    const int fraction = int(ms % 1000);
    *p++ = char('0' + fraction / 100);
    *p++ = char('0' + fraction / 10 % 10);
    *p++ = char('0' + fraction % 10);
    const size_t length = size_t(p - text);
    if (length < 8)
        line.append(8 - length, ' ');
    line.append(text, length);
    line += ' ';
}
} // namespace

CtlRunner::CtlRunner(CtlOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{
    m_clock.start();
    m_timeout.setSingleShot(true);
    m_receiptWait.setSingleShot(true);
}

CtlRunner::~CtlRunner() = default;

// The fields and the readable text are made only for the output in use: every
// message makes three events (queued, sent, ack).
template<class Fields, class Readable>
void CtlRunner::emitEventWith(
    const QString &event, const QString &messageId, Fields &&makeFields, Readable &&appendReadable)
{
    if (m_finishing && event != QLatin1String("summary"))
        return;
    if (m_options.json) {
        QJsonObject object {{QStringLiteral("event"), event},
            {QStringLiteral("message_id"), messageId.isEmpty() ? QJsonValue() : QJsonValue(messageId)},
            {QStringLiteral("t_ms"), elapsedMs()}};
        const QJsonObject fields = makeFields();
        for (auto it = fields.constBegin(); it != fields.constEnd(); ++it)
            object.insert(it.key(), it.value());
        writeLine(stdout, json::serialize(object));
    } else {
        std::string &line = m_line; // its capacity is kept from line to line
        line.clear();
        appendSeconds(line, elapsedMs());
        appendReadable(line);
        writeLine(event == QLatin1String("error") ? stderr : stdout, line);
    }
}

void CtlRunner::start()
{
    // Whatever was printed is out before the program waits for the network or a timer.
    if (auto *dispatcher = QAbstractEventDispatcher::instance())
        connect(dispatcher, &QAbstractEventDispatcher::aboutToBlock, this, [] { std::fflush(stdout); });
    // Profile, flags, trust and API key are resolved once, by the policy the window
    // uses too (app::ConnectionResolver): explicit flags win over the profile.
    storage::ProfileStore profiles;
    if (!m_options.profile.isEmpty())
        m_secrets = storage::SecretStore::createDefault(this);
    const app::ConnectionResolver resolver(&profiles, m_secrets.get());
    resolver.resolve(m_options.profile, m_options.connection, qEnvironmentVariable("CCS_API_KEY"), this,
        [this](const app::ResolvedConnection &resolved) { run(resolved); });
}

void CtlRunner::run(const app::ResolvedConnection &resolved)
{
    using Status = app::ResolvedConnection::Status;
    const bool withProfile = !resolved.profileName.isEmpty();
    switch (resolved.status) {
    case Status::Ok:
        break;
    case Status::NoSuchProfile:
        usageError(resolved.error);
        return;
    case Status::LocalEmulator:
        usageError(QStringLiteral("\"%1\" runs the emulator inside ccs-admin; start ccs-emulator and use "
                                  "--host, --port and --ca-cert")
                       .arg(resolved.profileName));
        return;
    case Status::InvalidProfile:
        usageError(QStringLiteral("profile \"%1\": %2").arg(resolved.profileName, resolved.error));
        return;
    case Status::NoSenderId:
        usageError(withProfile ? QStringLiteral("profile \"%1\" has no sender ID: give --sender-id")
                                     .arg(resolved.profileName)
                               : QStringLiteral("--sender-id is required (or --profile)"));
        return;
    case Status::NoApiKey:
        usageError(withProfile ? QStringLiteral("no API key for profile \"%1\": %2 (or set CCS_API_KEY)")
                                     .arg(resolved.profileName,
                                         resolved.keyStatus == storage::SecretResult::Status::NotFound
                                             ? QStringLiteral("none stored in the keychain")
                                             : resolved.error)
                               : QStringLiteral("set the API key in the environment variable CCS_API_KEY"));
        return;
    }
    m_settings = resolved.settings;
    m_historyProfile = resolved.profileName;
    m_session.setSettings(m_settings);
    openHistory();

    connect(&m_session, &CcsSession::stateChanged, this, [this](SessionState state) {
        if (state == SessionState::Connected)
            m_everConnected = true;
        QJsonObject fields {{QStringLiteral("state"), sessionStateName(state)},
            {QStringLiteral("connections"), int(m_session.connections().size())}};
        emitEvent(QStringLiteral("connection"), {}, fields,
            QStringLiteral("connection %1").arg(sessionStateName(state).toLower()));
    });
    connect(&m_session, &CcsSession::errorOccurred, this, [this](SessionError error, const QString &message) {
        emitEvent(QStringLiteral("error"), {},
            {{QStringLiteral("error"), sessionErrorName(error)},
                {QStringLiteral("error_description"), message}},
            QStringLiteral("error: %1").arg(message));
        // Could not connect or authenticate: nothing more to wait for.
        if (!m_everConnected || m_session.state() == SessionState::Error)
            finish(ExitConnect);
    });
    connect(&m_session, &CcsSession::receiptReceived, this, [this](const Receipt &receipt, int connectionId) {
        ++m_receipts;
        m_receiptsFor.insert(receipt.originalMessageId);
        emitEvent(QStringLiteral("receipt"), receipt.messageId,
            {{QStringLiteral("original_message_id"), receipt.originalMessageId},
                {QStringLiteral("message_status"), receipt.messageStatus},
                {QStringLiteral("from"), receipt.deviceRegistrationId},
                {QStringLiteral("connection"), connectionId}},
            QStringLiteral("receipt %1 for %2 (%3)")
                .arg(receipt.messageId, receipt.originalMessageId, receipt.messageStatus));
        if (m_options.command == Command::Send)
            checkSendDone();
    });
    connect(&m_session, &CcsSession::upstreamReceived, this,
        [this](const UpstreamMessage &message, int connectionId, qint64) {
            ++m_upstream;
            emitEvent(QStringLiteral("upstream"), message.messageId,
                {{QStringLiteral("from"), message.from}, {QStringLiteral("category"), message.category},
                    {QStringLiteral("data"), message.data}, {QStringLiteral("connection"), connectionId}},
                QStringLiteral("upstream %1 from %2 (%3): %4")
                    .arg(message.messageId, message.from, message.category,
                        QString::fromUtf8(json::serialize(message.data))));
            if (m_options.command == Command::Listen && m_options.listenCount > 0
                && m_upstream >= m_options.listenCount)
                finish(ExitOk);
        });
    connect(&m_session, &CcsSession::duplicateReceived, this,
        [this](const QString &from, const QString &messageId, int times) {
            ++m_duplicates;
            if (!m_options.json)
                writeLine(stdout,
                    QStringLiteral("%1 redelivered %2 from %3 (seen %4 times, ACKed again)")
                        .arg(elapsedMs() / 1000.0, 0, 'f', 3)
                        .arg(messageId, from)
                        .arg(times)
                        .toUtf8());
        });

    const MessageLedger *ledger = m_session.ledger();
    connect(ledger, &MessageLedger::entryAdded, this, [this, ledger](int index) {
        const LedgerEntry &e = ledger->at(index);
        emitEventWith(
            QStringLiteral("queued"), e.message.messageId,
            [&] {
                return QJsonObject {{QStringLiteral("to"), e.message.to}};
            },
            [&](std::string &line) {
                line += "queued ";
                appendUtf8(line, e.message.messageId);
                line += " to ";
                appendUtf8(line, e.message.to);
            });
    });
    connect(
        ledger, &MessageLedger::entryChanged, this, [this, ledger](int index, MessageState, MessageState to) {
            const LedgerEntry &e = ledger->at(index);
            const QString &id = e.message.messageId;
            switch (to) {
            case MessageState::InFlight:
                emitEventWith(
                    QStringLiteral("sent"), id,
                    [&] {
                        return QJsonObject {{QStringLiteral("connection"), e.connectionId},
                            {QStringLiteral("attempt"), e.attempts}};
                    },
                    [&](std::string &line) {
                        line += "sent ";
                        appendUtf8(line, id);
                        line += " on connection ";
                        appendNumber(line, e.connectionId);
                    });
                break;
            case MessageState::Acked: {
                emitEventWith(
                    QStringLiteral("ack"), id,
                    [&] {
                        QJsonObject fields {{QStringLiteral("connection"), e.connectionId}};
                        if (const auto latency = e.ackLatencyMs())
                            fields.insert(QStringLiteral("latency_ms"), *latency);
                        return fields;
                    },
                    [&](std::string &line) {
                        line += "ack ";
                        appendUtf8(line, id);
                        line += " (";
                        appendNumber(line, e.ackLatencyMs().value_or(0));
                        line += " ms)";
                    });
                break;
            }
            case MessageState::Nacked:
                emitEvent(QStringLiteral("nack"), id,
                    {{QStringLiteral("error"), e.nackText},
                        {QStringLiteral("error_description"), e.errorDescription}},
                    QStringLiteral("nack %1: %2 %3").arg(id, e.nackText, e.errorDescription));
                break;
            case MessageState::RetryWaiting:
                ++m_retries;
                emitEvent(QStringLiteral("retry"), id,
                    {{QStringLiteral("error"), e.nackText},
                        {QStringLiteral("error_description"), e.errorDescription},
                        {QStringLiteral("retry"), e.retries},
                        {QStringLiteral("detail"), e.history.constLast().detail}},
                    QStringLiteral("retry %1 after %2: %3")
                        .arg(id, e.nackText, e.history.constLast().detail));
                break;
            case MessageState::Expired:
            case MessageState::Failed:
            case MessageState::Cancelled:
                emitEvent(QStringLiteral("error"), id,
                    {{QStringLiteral("error"), stateName(to).toUpper()},
                        {QStringLiteral("error_description"),
                            e.errorDescription.isEmpty() ? e.history.constLast().detail
                                                         : e.errorDescription}},
                    QStringLiteral("%1 %2: %3")
                        .arg(stateName(to).toLower(), id,
                            e.errorDescription.isEmpty() ? e.history.constLast().detail
                                                         : e.errorDescription));
                break;
            default:
                break;
            }
            // A receipt is checked once its own event is out (receiptReceived follows this).
            if (m_options.command == Command::Send && isTerminal(to) && to != MessageState::Delivered) {
                if (m_fed < m_options.count && !m_feedPosted && outstanding() <= feedAhead() - kFeedChunk) {
                    m_feedPosted = true;
                    QMetaObject::invokeMethod(this, &CtlRunner::feedCopies, Qt::QueuedConnection);
                }
                checkSendDone();
            }
        });

    connect(&m_session, &CcsSession::closed, this, [this] { QCoreApplication::exit(m_exitCode); });

    if (m_options.command == Command::Send)
        startSend();
    else
        startListen();
}

void CtlRunner::startSend()
{
    const double limit = m_options.timeoutSeconds.value_or(120);
    connect(&m_timeout, &QTimer::timeout, this, [this] {
        printError(QStringLiteral("gave up after %1 s: not every message was answered")
                       .arg(m_timeout.interval() / 1000.0));
        finish(ExitIncomplete);
    });
    m_timeout.start(int(std::min(limit * 1000, 2e9)));
    m_session.open();
    if (!m_options.replayFile.isEmpty()) {
        // A replayed message that is not valid any more is reported and skipped; the others go.
        for (const QString &problem : std::as_const(m_options.replayProblems))
            printError(QStringLiteral("%1: %2 (not replayed)").arg(m_options.replayFile, problem));
        int accepted = 0;
        for (DownstreamMessage message : std::as_const(m_options.replayMessages)) {
            ValidationFailure failure;
            if (m_session.send(message, &failure))
                ++accepted;
            else
                printError(
                    QStringLiteral("not replayed (to %1): %2")
                        .arg(message.to,
                            failure.userMessage().isEmpty() ? failure.description : failure.userMessage()));
        }
        m_options.count = m_fed = accepted; // all handed over: nothing for feedCopies()
        if (accepted == 0)
            finish(ExitIncomplete);
        return;
    }
    feedCopies();
}

int CtlRunner::feedAhead() const
{
    return kFeedAhead * std::max(1, m_settings.connectionCount);
}

int CtlRunner::outstanding() const
{
    const MessageLedger *ledger = m_session.ledger();
    return ledger->count(MessageState::Queued) + ledger->count(MessageState::InFlight)
        + ledger->count(MessageState::RetryWaiting);
}

// Hands copies to the session until a few windows' worth are unanswered. The rest
// follow as answers come (from the event loop, never inside the session's own call).
void CtlRunner::feedCopies()
{
    m_feedPosted = false;
    const int ahead = feedAhead();
    while (m_fed < m_options.count && !m_finishing && outstanding() < ahead) {
        DownstreamMessage message = m_options.message;
        message.messageId.clear(); // a fresh id each
        ValidationFailure failure;
        if (!m_session.send(message, &failure)) {
            usageError(failure.userMessage().isEmpty() ? failure.description : failure.userMessage());
            return;
        }
        ++m_fed;
    }
}

void CtlRunner::checkSendDone()
{
    if (m_finishing)
        return;
    const MessageLedger *ledger = m_session.ledger();
    const int done = ledger->count(MessageState::Acked) + ledger->count(MessageState::Delivered)
        + ledger->count(MessageState::Nacked) + ledger->count(MessageState::Expired)
        + ledger->count(MessageState::Failed) + ledger->count(MessageState::Cancelled);
    if (done < ledger->size() || ledger->size() < m_options.count)
        return;
    const int acked = ledger->count(MessageState::Acked) + ledger->count(MessageState::Delivered);
    const int exitCode = acked == ledger->size() ? ExitOk : ExitIncomplete;
    const bool wantReceipts
        = m_options.waitReceiptsSeconds > 0 && m_options.message.deliveryReceiptRequested.value_or(false);
    if (wantReceipts && ledger->count(MessageState::Acked) > 0) {
        if (!m_waitingReceipts) {
            m_waitingReceipts = true;
            connect(&m_receiptWait, &QTimer::timeout, this, [this, exitCode] {
                printError(QStringLiteral("%1 receipt(s) did not come within %2 s")
                               .arg(m_session.ledger()->count(MessageState::Acked))
                               .arg(m_options.waitReceiptsSeconds));
                finish(exitCode);
            });
            m_receiptWait.start(int(std::min(m_options.waitReceiptsSeconds * 1000, 2e9)));
        }
        return;
    }
    finish(exitCode);
}

void CtlRunner::startListen()
{
    if (m_options.timeoutSeconds) {
        connect(&m_timeout, &QTimer::timeout, this,
            [this] { finish(m_options.listenCount > 0 ? ExitIncomplete : ExitOk); });
        m_timeout.start(int(std::min(*m_options.timeoutSeconds * 1000, 2e9)));
    }
    m_session.open();
}

void CtlRunner::interrupt()
{
    if (m_options.command == Command::Send)
        finish(ExitIncomplete);
    else
        finish(m_options.listenCount > 0 ? ExitIncomplete : ExitOk);
}

QJsonObject CtlRunner::summary() const
{
    const MessageLedger *ledger = m_session.ledger();
    QJsonObject fields;
    if (m_options.command == Command::Send) {
        fields.insert(QStringLiteral("accepted"), ledger->size());
        fields.insert(QStringLiteral("acked"),
            ledger->count(MessageState::Acked) + ledger->count(MessageState::Delivered));
        fields.insert(QStringLiteral("delivered"), ledger->count(MessageState::Delivered));
        fields.insert(QStringLiteral("nacked"), ledger->count(MessageState::Nacked));
        fields.insert(QStringLiteral("expired"), ledger->count(MessageState::Expired));
        fields.insert(QStringLiteral("failed"), ledger->count(MessageState::Failed));
        fields.insert(QStringLiteral("unanswered"),
            ledger->count(MessageState::Queued) + ledger->count(MessageState::InFlight)
                + ledger->count(MessageState::RetryWaiting));
        fields.insert(QStringLiteral("retries"), m_retries);
        fields.insert(QStringLiteral("receipts"), m_receipts);
        // --count copies the run ended before handing over (they follow the answers).
        if (m_fed < m_options.count)
            fields.insert(QStringLiteral("not_queued"), m_options.count - m_fed);
    } else {
        fields.insert(QStringLiteral("upstream"), m_upstream);
        fields.insert(QStringLiteral("duplicates"), m_duplicates);
        fields.insert(QStringLiteral("receipts"), m_receipts);
    }
    return fields;
}

void CtlRunner::openHistory()
{
    if (m_historyProfile.isEmpty())
        return;
    const ConnectionSettings &s = m_settings;
    auto writer = std::make_unique<history::HistoryWriter>();
    const history::OpenResult opened = writer->open(history::databasePathForProfile(m_historyProfile),
        {QStringLiteral("ccsctl"), s.host, s.port, s.senderId});
    if (!opened.ok()) {
        // The run goes on without a history; the reason is said once.
        printError(QStringLiteral("not recorded in the history: %1").arg(opened.error));
        return;
    }
    m_history = std::move(writer);
    m_historyRecorder = std::make_unique<history::HistoryRecorder>(m_history.get());
    m_historyRecorder->attachSession(&m_session);
}

void CtlRunner::finish(int exitCode)
{
    if (m_finishing)
        return;
    m_finishing = true;
    m_exitCode = exitCode;
    m_timeout.stop();
    m_receiptWait.stop();
    QJsonObject fields = summary();
    fields.insert(QStringLiteral("exit_code"), exitCode);
    QStringList parts;
    for (auto it = fields.constBegin(); it != fields.constEnd(); ++it)
        parts.append(QStringLiteral("%1 %2").arg(it.key()).arg(it.value().toInteger()));
    emitEvent(QStringLiteral("summary"), {}, fields,
        QStringLiteral("summary: ") + parts.join(QStringLiteral(", ")));
    // Closing flushes the ACKs already written; the session's closed() ends the program.
    m_session.close();
    // In case no stream is left to close (never opened), closed() still ends it, but not before this returns.
    QTimer::singleShot(5000, qApp, [exitCode] { QCoreApplication::exit(exitCode); });
}

void CtlRunner::emitEvent(
    const QString &event, const QString &messageId, QJsonObject fields, const QString &readable)
{
    emitEventWith(
        event, messageId, [&] { return std::move(fields); },
        [&](std::string &line) { appendUtf8(line, readable); });
}

void CtlRunner::printError(const QString &text)
{
    emitEvent(QStringLiteral("error"), {},
        {{QStringLiteral("error"), QStringLiteral("ccsctl")}, {QStringLiteral("error_description"), text}},
        QStringLiteral("error: ") + text);
}

void CtlRunner::usageError(const QString &text)
{
    // Usage errors are for a person: stderr, also with --json (stdout keeps only events).
    writeLine(stderr, (QStringLiteral("ccsctl: ") + text).toUtf8());
    m_finishing = true;
    m_exitCode = ExitUsage;
    QTimer::singleShot(0, qApp, [] { QCoreApplication::exit(ExitUsage); });
}

} // namespace ccs::ctl
