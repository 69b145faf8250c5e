#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace ccs {

// Sits between the socket and QXmlStreamReader, which holds a whole text node,
// attribute value or tag in memory until it ends. The guard follows the XML
// just enough to know where such a run starts and ends, and passes on only the
// first maxRun bytes of each text node, attribute value, comment, CDATA section
// or processing instruction: the rest is dropped, and the caller marks the
// stanza it belonged to as oversized. Tags (outside their values) and
// declarations cannot be shortened: longer than maxMarkup, the stream is refused.
// Cuts never split a UTF-8 sequence or an entity reference, and a cut comment,
// CDATA section or PI gets its terminator back, so what the reader sees stays
// well-formed when the input was.
class XmlSizeGuard
{
public:
    XmlSizeGuard(qsizetype maxRun, qsizetype maxMarkup);

    enum class Result {
        Done, // all of the input was consumed
        CutStarted, // a run passed maxRun here: give the reader *out now, mark, then go on
        MarkupTooLong, // a tag or declaration passed maxMarkup: stop reading this stream
    };
    // Consumes input from *pos on, appending to *out what the reader should get.
    Result process(QByteArrayView input, qsizetype *pos, QByteArray *out);
    void reset();

private:
    enum class State { Text, Lt, Bang, Tag, Comment, CData, Pi, Decl };
    bool mayCut(unsigned char byte) const;
    Result checkMarkup() const;

    qsizetype m_maxRun;
    qsizetype m_maxMarkup;
    State m_state = State::Text;
    qsizetype m_run = 0; // bytes in the current text, value, comment, CDATA or PI
    qsizetype m_markup = 0; // bytes in the current tag (outside values) or declaration
    bool m_dropping = false;
    bool m_inEntity = false;
    int m_entityLength = 0;
    char m_quote = 0; // inside a quoted attribute value (Tag) or literal (Decl)
    int m_declDepth = 0; // [ ] nesting in a DOCTYPE
    QByteArray m_bang; // the bytes after "<!" until it is clear what they start
    unsigned char m_prev1 = 0, m_prev2 = 0; // the last two bytes of a comment, CDATA or PI
    bool m_padComment = false; // the comment was cut just after a '-'
};

} // namespace ccs
