#pragma once

#include <QByteArrayView>

#include <memory>
#include <vector>

namespace ccs::ui {

// Append-only byte storage in large chunks: a million short texts cost their
// bytes plus a handle, not a heap block each. Views stay valid until clear().
class TextArena
{
public:
    using Handle = quint64; // chunk << 32 | offset

    Handle append(QByteArrayView bytes);
    QByteArrayView view(Handle handle, qsizetype size) const;
    void clear();
    qsizetype bytesReserved() const { return m_reserved; }

private:
    static constexpr qsizetype kChunkSize = 1 << 20;
    struct Chunk {
        std::unique_ptr<char[]> data;
        qsizetype capacity = 0;
        qsizetype used = 0;
    };
    std::vector<Chunk> m_chunks;
    qsizetype m_reserved = 0;
};

} // namespace ccs::ui
