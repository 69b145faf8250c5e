#include "TextArena.h"

#include <cstring>

namespace ccs::ui {

TextArena::Handle TextArena::append(QByteArrayView bytes)
{
    const qsizetype size = bytes.size();
    if (m_chunks.empty() || m_chunks.back().capacity - m_chunks.back().used < size) {
        Chunk chunk;
        chunk.capacity = std::max(kChunkSize, size);
        chunk.data = std::make_unique<char[]>(size_t(chunk.capacity));
        m_reserved += chunk.capacity;
        m_chunks.push_back(std::move(chunk));
    }
    Chunk &chunk = m_chunks.back();
    const qsizetype offset = chunk.used;
    if (size)
        std::memcpy(chunk.data.get() + offset, bytes.data(), size_t(size));
    chunk.used += size;
    return (Handle(m_chunks.size() - 1) << 32) | Handle(offset);
}

QByteArrayView TextArena::view(Handle handle, qsizetype size) const
{
    const size_t chunk = size_t(handle >> 32);
    const qsizetype offset = qsizetype(handle & 0xffffffffu);
    if (chunk >= m_chunks.size())
        return {};
    return QByteArrayView(m_chunks[chunk].data.get() + offset, size);
}

void TextArena::clear()
{
    m_chunks.clear();
    m_reserved = 0;
}

} // namespace ccs::ui
