#include "BulkSendJob.h"

#include "CcsSession.h"
#include "MessageLedger.h"
#include "protocol/MessageIdGenerator.h"

namespace ccs {

namespace {

constexpr int kProgressIntervalMs = 100; // at most ten progress signals a second

bool isAnswered(MessageState state)
{
    return state == MessageState::Acked || isTerminal(state);
}

} // namespace

BulkSendJob::BulkSendJob(CcsSession *session, QObject *parent)
    : QObject(parent)
    , m_session(session)
{
    m_topUp.setSingleShot(true);
    m_topUp.setInterval(0);
    connect(&m_topUp, &QTimer::timeout, this, &BulkSendJob::topUp);
    if (session) {
        const MessageLedger *ledger = session->ledger();
        connect(ledger, &MessageLedger::entryChanged, this, &BulkSendJob::onEntryChanged);
        connect(ledger, &MessageLedger::cleared, this, [this] {
            // The entries are gone: nothing outstanding can be answered any more.
            m_cancelled += int(m_outstanding.size());
            m_outstanding.clear();
            finishIfDone();
        });
    }
}

BulkSendJob::~BulkSendJob() = default;

int BulkSendJob::queueDepth() const
{
    if (!m_session)
        return kChunk;
    const ConnectionSettings &s = m_session->settings();
    return std::max(kChunk, 2 * effectiveWindow(s) * std::max(1, s.connectionCount));
}

bool BulkSendJob::start(const DownstreamMessage &message, int copies)
{
    if (m_running || !m_session)
        return false;
    m_message = message;
    m_outstanding.clear();
    m_total = std::max(1, copies);
    m_submitted = m_answered = m_cancelled = 0;
    m_running = true;
    reportProgress(true);
    topUp();
    return true;
}

void BulkSendJob::topUp()
{
    m_topUp.stop();
    if (!m_running)
        return;
    if (!m_session) {
        m_cancelled += m_total - m_submitted + int(m_outstanding.size());
        m_total = m_submitted;
        m_outstanding.clear();
        finishIfDone();
        return;
    }
    const MessageLedger *ledger = m_session->ledger();
    const int depth = queueDepth();
    const int end = std::min(m_total, m_submitted + kChunk);
    const int before = m_submitted;
    while (m_submitted < end && m_session->queueLength() < depth) {
        DownstreamMessage copy = m_message;
        copy.messageId = MessageIdGenerator::next();
        ++m_submitted;
        if (m_session->send(copy))
            m_outstanding.insert(ledger->indexOf(copy.messageId));
        else
            ++m_cancelled;
    }
    // More to hand over and room for it: go on next pass. Otherwise the ledger's
    // next change (a copy leaving the queue) calls again.
    if (m_submitted < m_total && m_submitted == end)
        m_topUp.start();
    if (m_submitted != before)
        reportProgress();
    finishIfDone();
}

void BulkSendJob::cancel()
{
    if (!m_running)
        return;
    m_topUp.stop();
    m_cancelled += m_total - m_submitted;
    m_total = m_submitted;
    if (m_session) {
        const MessageLedger *ledger = m_session->ledger();
        // A copy: each cancel() comes back through onEntryChanged, which edits
        // m_outstanding and counts the copy as cancelled.
        const QList<int> indices = m_outstanding.values();
        for (const int index : indices) {
            if (index < ledger->size())
                m_session->cancel(ledger->at(index).message.messageId);
        }
    }
    reportProgress(true);
    finishIfDone();
}

void BulkSendJob::onEntryChanged(int index, MessageState from, MessageState to)
{
    if (!m_running)
        return;
    if (from == MessageState::Queued && m_submitted < m_total && !m_topUp.isActive())
        m_topUp.start(); // room in the queue
    if (isAnswered(from) || !isAnswered(to) || !m_outstanding.remove(index))
        return;
    if (to == MessageState::Cancelled) {
        ++m_cancelled; // withdrawn by cancel() or by anyone else
    } else {
        ++m_answered;
        reportProgress();
    }
    finishIfDone();
}

void BulkSendJob::reportProgress(bool now)
{
    // A label and a progress bar follow this: a million updates would cost more than the sends.
    if (!now && m_sinceProgress.isValid() && m_sinceProgress.elapsed() < kProgressIntervalMs)
        return;
    m_sinceProgress.start();
    Q_EMIT progressChanged(m_answered, m_cancelled, m_submitted, m_total);
}

void BulkSendJob::finishIfDone()
{
    if (!m_running || m_submitted < m_total || !m_outstanding.isEmpty())
        return;
    m_running = false;
    m_topUp.stop();
    reportProgress(true);
    Q_EMIT finished(m_answered, m_cancelled);
}

} // namespace ccs
