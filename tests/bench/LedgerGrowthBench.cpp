// ccs-ledger-growth-bench: the longest single append into the message ledger's
// storage on the way to 1,000,000 entries, for the storage it had (one
// QVector<LedgerEntry>, one QHash of ids) and the one it has (std::deque, 64
// id shards): a vector copies every entry when it grows, in one call on the
// window's thread. Thread CPU time, so a loaded machine does not enter it.
#include "client/MessageLedger.h"

#include <QHash>
#include <QTextStream>
#include <QVector>

#include <array>
#include <deque>
#include <time.h>

using namespace ccs;

namespace {

double threadCpuMs()
{
    timespec t {};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

QString messageId(int i)
{
    return QStringLiteral("m-%1-abcdefgh").arg(i);
}

struct Worst {
    double totalMs = 0, worstMs = 0;
    int at = 0;
    void add(double ms, int i)
    {
        totalMs += ms;
        if (ms > worstMs) {
            worstMs = ms;
            at = i;
        }
    }
};

template<typename Store> Worst entries(int n)
{
    Store store;
    Worst w;
    for (int i = 0; i < n; ++i) {
        LedgerEntry e;
        e.message.messageId = messageId(i);
        e.message.to = QStringLiteral("token-abcdefghijklmnopqrstuvwxyz-0123456789");
        e.history.append({MessageState::Queued, 1, 0, {}});
        const double before = threadCpuMs();
        store.push_back(std::move(e));
        w.add(threadCpuMs() - before, i);
    }
    return w;
}

template<size_t Shards> Worst ids(int n)
{
    std::array<QHash<QString, int>, Shards> index;
    Worst w;
    for (int i = 0; i < n; ++i) {
        const QString id = messageId(i);
        const double before = threadCpuMs();
        index[qHash(id) % Shards].insert(id, i);
        w.add(threadCpuMs() - before, i);
    }
    return w;
}

} // namespace

int main()
{
    constexpr int n = 1000000;
    QTextStream out(stdout);
    out << "## ccs-ledger-growth-bench: " << n << " appends, sizeof(LedgerEntry) = " << sizeof(LedgerEntry)
        << " bytes\n\n| storage | total ms | longest single append ms | at entry |\n|---|---:|---:|---:|\n";
    const auto row = [&](const char *name, const Worst &w) {
        out << "| " << name << " | " << QString::number(w.totalMs, 'f', 1) << " | "
            << QString::number(w.worstMs, 'f', 1) << " | " << w.at << " |\n";
    };
    // The new storage first: right after a million entries are freed, the
    // allocator's clean-up lands in one of the next appends (tens of ms once).
    row("std::deque<LedgerEntry> (now)", entries<std::deque<LedgerEntry>>(n));
    row("QVector<LedgerEntry> (before)", entries<QVector<LedgerEntry>>(n));
    row("64 QHash shards of ids (now)", ids<64>(n));
    row("one QHash<QString, int> of ids (before)", ids<1>(n));
    return 0;
}
