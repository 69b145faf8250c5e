#include "Utf8Validator_p.h"

#include <cstring>

namespace ccs {

bool Utf8Validator::feed(QByteArrayView bytes)
{
    if (m_failed)
        return false;
    const qsizetype size = bytes.size();
    for (qsizetype i = 0; i < size; ++i) {
        if (m_need == 0) {
            // Runs of ASCII (nearly all CCS traffic) eight bytes at a time.
            while (size - i >= 8) {
                quint64 word;
                std::memcpy(&word, bytes.data() + i, sizeof word);
                if (word & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            if (i == size)
                break;
        }
        const auto byte = static_cast<unsigned char>(bytes[i]);
        if (m_need == 0) {
            if (byte <= 0x7F)
                continue;
            if (byte >= 0xC2 && byte <= 0xDF) {
                m_need = 1;
            } else if (byte >= 0xE0 && byte <= 0xEF) {
                m_need = 2;
                if (byte == 0xE0)
                    m_lower = 0xA0; // overlong below U+0800
                else if (byte == 0xED)
                    m_upper = 0x9F; // U+D800..U+DFFF are surrogates
            } else if (byte >= 0xF0 && byte <= 0xF4) {
                m_need = 3;
                if (byte == 0xF0)
                    m_lower = 0x90; // overlong below U+10000
                else if (byte == 0xF4)
                    m_upper = 0x8F; // above U+10FFFF
            } else {
                m_failed = true; // a stray continuation byte, C0/C1 (overlong) or F5..FF
            }
        } else if (byte < m_lower || byte > m_upper) {
            m_failed = true;
        } else {
            m_lower = 0x80;
            m_upper = 0xBF;
            --m_need;
        }
        if (m_failed) {
            m_errorOffset = m_offset + i;
            return false;
        }
    }
    m_offset += bytes.size();
    return true;
}

} // namespace ccs
