#pragma once

#include <QHash>
#include <QString>

#include <array>

namespace ccs {

// Message id -> ledger index, for a million ids without stalls or cache misses.
// An id is found by its 64-bit hash: probing compares integers, not strings
// (whose text is elsewhere in memory, a cache miss per probe), and the id stored
// at the index found is compared once. A second id with a hash already taken
// (not seen in practice with 64 bits, but possible) is kept by its text in
// `collisions`. The index is split in shards by the hash's top bits, so that
// each rehashes alone (one hash of a million would re-insert every id at once).
// The ids themselves stay with their owner: `idAt(index)` reads the one at an index.
class IdIndex
{
public:
    using Hash = quint64 (*)(QStringView);
    static quint64 defaultHash(QStringView id)
    {
        return qHashBits(id.data(), size_t(id.size()) * sizeof(QChar), 0);
    }
    explicit IdIndex(Hash hash = defaultHash)
        : m_hash(hash)
    { }

    template<class IdAt> int find(const QString &id, IdAt idAt) const
    {
        const quint64 h = m_hash(id);
        const Shard &shard = m_shards[shardOf(h)];
        const auto it = shard.byHash.constFind(h);
        if (it == shard.byHash.constEnd())
            return -1;
        if (idAt(*it) == id)
            return *it;
        return shard.collisions.value(id, -1);
    }

    // Adds `id` at `index` unless it is there already (false). One lookup when the
    // hash is new: its slot is made, and if it was there already the id may be taken.
    template<class IdAt> bool insert(const QString &id, int index, IdAt idAt)
    {
        const quint64 h = m_hash(id);
        Shard &shard = m_shards[shardOf(h)];
        const qsizetype known = shard.byHash.size();
        int &slot = shard.byHash[h];
        if (shard.byHash.size() != known) {
            slot = index;
            return true;
        }
        if (idAt(slot) == id || shard.collisions.contains(id))
            return false;
        shard.collisions.insert(id, index);
        return true;
    }

    void clear()
    {
        for (Shard &shard : m_shards) {
            shard.byHash.clear();
            shard.collisions.clear();
        }
    }

private:
    static constexpr size_t kShards = 64;
    static size_t shardOf(quint64 hash) { return size_t(hash >> 58); } // the top 6 bits
    struct Shard {
        QHash<quint64, int> byHash;
        QHash<QString, int> collisions;
    };
    Hash m_hash;
    std::array<Shard, kShards> m_shards;
};

} // namespace ccs
