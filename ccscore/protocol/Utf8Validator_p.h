#pragma once

#include <QByteArrayView>

namespace ccs {

// Checks a byte stream for well-formed UTF-8 as it arrives, a chunk at a time
// (a sequence may be split between chunks). QXmlStreamReader silently turns
// bad bytes into U+FFFD; a CCS server never sends them, so the client treats
// them as a broken stream instead of guessing. Rejects stray continuation
// bytes, overlong forms, UTF-16 surrogates and code points above U+10FFFF.
class Utf8Validator
{
public:
    // False at the first byte that cannot be UTF-8; it stays false until reset().
    bool feed(QByteArrayView bytes);
    bool isValid() const { return !m_failed; }
    // Offset (from the first byte fed) of the first bad byte, or -1.
    qint64 errorOffset() const { return m_failed ? m_errorOffset : -1; }
    // Bytes accepted so far.
    qint64 bytesChecked() const { return m_offset; }
    // True if the bytes fed so far end inside a multi-byte sequence.
    bool isIncomplete() const { return m_need > 0; }
    void reset() { *this = Utf8Validator(); }

private:
    int m_need = 0; // continuation bytes still expected
    unsigned char m_lower = 0x80, m_upper = 0xBF; // the range the next continuation byte must be in
    qint64 m_offset = 0;
    qint64 m_errorOffset = 0;
    bool m_failed = false;
};

} // namespace ccs
