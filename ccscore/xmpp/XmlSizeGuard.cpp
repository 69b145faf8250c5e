#include "XmlSizeGuard_p.h"

namespace ccs {

namespace {
bool isContinuation(unsigned char byte)
{
    return (byte & 0xC0) == 0x80;
}

} // namespace

XmlSizeGuard::XmlSizeGuard(qsizetype maxRun, qsizetype maxMarkup)
    : m_maxRun(maxRun)
    , m_maxMarkup(maxMarkup)
{ }

void XmlSizeGuard::reset()
{
    *this = XmlSizeGuard(m_maxRun, m_maxMarkup);
}

bool XmlSizeGuard::mayCut(unsigned char byte) const
{
    return m_run >= m_maxRun && !m_inEntity && !isContinuation(byte);
}

XmlSizeGuard::Result XmlSizeGuard::checkMarkup() const
{
    return m_markup > m_maxMarkup ? Result::MarkupTooLong : Result::Done;
}

XmlSizeGuard::Result XmlSizeGuard::process(QByteArrayView input, qsizetype *pos, QByteArray *out)
{
    qsizetype i = *pos;
    qsizetype emitFrom = m_dropping ? -1 : i; // -1: nothing to emit while dropping
    auto startCut = [&] {
        out->append(input.sliced(emitFrom, i - emitFrom));
        m_dropping = true;
        // "-" then "-->" would end the comment on "--->", which is not XML.
        m_padComment = m_state == State::Comment && m_prev1 == '-';
        *pos = i + 1;
        return Result::CutStarted;
    };
    auto endCut = [&](QByteArrayView terminator, qsizetype resumeAt) {
        m_dropping = false;
        out->append(terminator);
        emitFrom = resumeAt;
    };
    auto finish = [&](Result result) {
        if (!m_dropping && emitFrom >= 0)
            out->append(input.sliced(emitFrom, i - emitFrom));
        *pos = i;
        return result;
    };
    // Entity references are short: one that runs on is malformed, and the reader says so.
    auto trackEntity = [this](unsigned char byte) {
        if (byte == '&') {
            m_inEntity = true;
            m_entityLength = 0;
        } else if (m_inEntity && (byte == ';' || ++m_entityLength > 64)) {
            m_inEntity = false;
        }
    };

    for (; i < input.size(); ++i) {
        const auto byte = static_cast<unsigned char>(input[i]);
        switch (m_state) {
        case State::Text:
            if (byte == '<') {
                if (m_dropping)
                    endCut({}, i);
                m_state = State::Lt;
                m_run = 0;
                m_inEntity = false;
            } else if (!m_dropping) {
                if (mayCut(byte))
                    return startCut();
                ++m_run;
                trackEntity(byte);
            }
            break;
        case State::Lt:
            m_markup = 2;
            if (byte == '!') {
                m_state = State::Bang;
                m_bang.clear();
            } else if (byte == '?') {
                m_state = State::Pi;
                m_run = 0;
                m_prev1 = m_prev2 = 0;
            } else {
                m_state = byte == '>' ? State::Text : State::Tag;
                m_quote = 0;
            }
            break;
        case State::Bang:
            m_bang.append(char(byte));
            ++m_markup;
            if (m_bang == "--" || m_bang == "[CDATA[") {
                m_state = m_bang == "--" ? State::Comment : State::CData;
                m_run = 0;
                m_prev1 = m_prev2 = 0;
            } else if (!QByteArrayView("--").startsWith(m_bang)
                && !QByteArrayView("[CDATA[").startsWith(m_bang)) {
                m_state = State::Decl; // <!DOCTYPE, <!ENTITY...: the reader decides what it makes of them
                m_declDepth = 0;
                m_quote = 0;
                if (byte == '>')
                    m_state = State::Text;
            }
            break;
        case State::Tag:
            if (m_quote) {
                if (byte == static_cast<unsigned char>(m_quote)) {
                    if (m_dropping)
                        endCut({}, i);
                    m_quote = 0;
                    m_inEntity = false;
                } else if (!m_dropping) {
                    if (mayCut(byte))
                        return startCut();
                    ++m_run;
                    trackEntity(byte);
                }
                break;
            }
            if (byte == '"' || byte == '\'') {
                m_quote = char(byte);
                m_run = 0;
                m_inEntity = false;
            } else if (byte == '>') {
                m_state = State::Text;
                m_run = 0;
            }
            ++m_markup;
            if (checkMarkup() != Result::Done)
                return finish(Result::MarkupTooLong);
            break;
        case State::Comment:
        case State::CData:
        case State::Pi: {
            const bool ends = byte == '>'
                && (m_state == State::Comment     ? m_prev1 == '-' && m_prev2 == '-'
                        : m_state == State::CData ? m_prev1 == ']' && m_prev2 == ']'
                                                  : m_prev1 == '?');
            if (ends) {
                if (m_dropping) {
                    endCut(m_state == State::Comment
                            ? (m_padComment ? QByteArrayView(" -->") : QByteArrayView("-->"))
                            : m_state == State::CData ? QByteArrayView("]]>")
                                                      : QByteArrayView("?>"),
                        i + 1);
                }
                m_state = State::Text;
                m_run = 0;
            } else if (!m_dropping) {
                if (mayCut(byte))
                    return startCut();
                ++m_run;
            }
            m_prev2 = m_prev1;
            m_prev1 = byte;
            break;
        }
        case State::Decl:
            if (m_quote) {
                if (byte == static_cast<unsigned char>(m_quote))
                    m_quote = 0;
            } else if (byte == '"' || byte == '\'') {
                m_quote = char(byte);
            } else if (byte == '[') {
                ++m_declDepth;
            } else if (byte == ']') {
                --m_declDepth;
            } else if (byte == '>' && m_declDepth <= 0) {
                m_state = State::Text;
                m_run = 0;
            }
            ++m_markup;
            if (checkMarkup() != Result::Done)
                return finish(Result::MarkupTooLong);
            break;
        }
    }
    return finish(Result::Done);
}

} // namespace ccs
