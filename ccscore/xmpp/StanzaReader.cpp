#include "StanzaReader_p.h"
#include "protocol/Stanza.h"

#include <algorithm>

namespace ccs::xmpp {

const XmlElement *XmlElement::child(QStringView childName, QStringView childNs) const
{
    for (const XmlElement &c : children) {
        if (c.name == childName && (childNs.isEmpty() || c.ns == childNs))
            return &c;
    }
    return nullptr;
}

ReaderLimits clientReaderLimits()
{
    ReaderLimits limits;
    // CCS sends stanzas of a few KiB and never nests deeply; the client reads on
    // past anything bigger (the stanza is dropped) and ends only a stream that
    // cannot be read any more.
    limits.maxStanzaBytes = 0;
    limits.maxDepth = 16383; // 16384 with the stream element
    limits.maxStanzaElements = 0;
    limits.keptDepth = 8; // the client looks three levels deep
    limits.maxRunChars = 1024 * 1024; // a longer <gcm> payload (or any text or value) drops its stanza
    limits.maxMarkupBytes = 256 * 1024; // a longer tag or declaration ends the connection
    limits.maxPlainJsonChars = 1024 * 1024;
    limits.rejectDtd = false;
    return limits;
}

ReaderLimits serverReaderLimits(qint64 maxStanzaBytes, int maxDepth, int maxStanzaElements)
{
    // Never trusts the peer: anything over a limit ends the stream with a stream error.
    ReaderLimits limits;
    limits.maxStanzaBytes = maxStanzaBytes;
    limits.maxDepth = maxDepth;
    limits.maxStanzaElements = maxStanzaElements;
    limits.keptDepth = std::max(maxDepth, 1);
    limits.maxPlainJsonChars = maxStanzaBytes;
    limits.rejectDtd = true; // restricted XML (RFC 6120 11.1)
    return limits;
}

StanzaReader::StanzaReader(const ReaderLimits &limits, Handler *handler)
    : m_limits(limits)
    , m_handler(handler)
{
    if (m_limits.maxRunChars > 0)
        m_guard = std::make_unique<XmlSizeGuard>(m_limits.maxRunChars, m_limits.maxMarkupBytes);
    m_reader = std::make_unique<QXmlStreamReader>();
    m_reader->setNamespaceProcessing(true);
}

StanzaReader::~StanzaReader() = default;

void StanzaReader::restartStream()
{
    // What the peer sent after the element that ended the old stream (a
    // pipelined stream header) belongs to the new one.
    markStanzaBoundary();
    const QByteArray leftover = m_pending.mid(m_pendingHead);
    m_reader = std::make_unique<QXmlStreamReader>();
    m_reader->setNamespaceProcessing(true);
    m_plainPending.clear();
    m_plainPendingFrom = 0;
    m_defaultNsIsClient = false;
    m_streamOpen = false;
    m_stack.clear();
    m_depth = 0;
    m_pending.clear();
    m_pendingHead = 0;
    m_pendingHeadUnits = 0;
    if (!leftover.isEmpty()) {
        m_pending = leftover;
        m_reader->addData(leftover);
    }
}

void StanzaReader::assumeStreamOpen(const QByteArray &header)
{
    m_silentOpen = true;
    feedXml(header);
}

void StanzaReader::feed(QByteArrayView bytes, const QByteArray *owner)
{
    if (!m_utf8.isValid() || !keepReading())
        return;
    // QXmlStreamReader does not reject every invalid UTF-8 sequence (it may
    // substitute or wait for more), so check here, with the state carried
    // across reads. What came before the fault is still read.
    const qint64 checkedBefore = m_utf8.bytesChecked();
    const qsizetype valid = bytes.isEmpty() || m_utf8.feed(bytes)
        ? bytes.size()
        : qsizetype(m_utf8.errorOffset() - checkedBefore);
    feedValid(bytes.first(valid), owner);
    if (valid < bytes.size() && keepReading())
        fail(ReadError::NotUtf8, QString::number(m_utf8.errorOffset()));
}

bool StanzaReader::plainReady() const
{
    return m_plainEnabled && m_streamOpen && m_depth == 0 && m_pending.size() == m_pendingHead
        && m_defaultNsIsClient && !m_truncated && m_limits.maxDepth >= 2
        && (m_limits.maxStanzaElements == 0 || m_limits.maxStanzaElements >= 2);
}

void StanzaReader::hold(QByteArrayView rest, const QByteArray &buffer)
{
    // Shared when it is the end of the buffer (as it is unless UTF-8 went wrong).
    const bool tail = !buffer.isEmpty() && rest.data() >= buffer.constData()
        && rest.data() + rest.size() == buffer.constData() + buffer.size();
    m_plainPending = tail ? buffer : rest.toByteArray();
    m_plainPendingFrom = tail ? rest.data() - buffer.constData() : 0;
}

void StanzaReader::feedValid(QByteArrayView bytes, const QByteArray *owner)
{
    // What `bytes` points into, kept while they are read and shared by hold().
    QByteArray buffer;
    if (hasHeldBytes()) {
        const QByteArrayView held = QByteArrayView(m_plainPending).sliced(m_plainPendingFrom);
        if (bytes.isEmpty()) {
            buffer = std::move(m_plainPending);
            bytes = QByteArrayView(buffer).sliced(m_plainPendingFrom);
        } else {
            buffer.reserve(held.size() + bytes.size());
            buffer.append(held).append(bytes);
            bytes = buffer;
        }
        m_plainPending.clear();
        m_plainPendingFrom = 0;
    } else if (owner) {
        buffer = *owner;
    }
    if (bytes.isEmpty())
        return;
    // Plain stanzas, the form CCS servers and client libraries write, go without the reader.
    const qsizetype maxHeld = m_limits.maxStanzaBytes > 0
        ? qsizetype(std::min<qint64>(kMaxPlainPending, m_limits.maxStanzaBytes))
        : kMaxPlainPending;
    while (!bytes.isEmpty() && plainReady()) {
        const char c = bytes.front();
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            bytes = bytes.sliced(1); // white space between stanzas means nothing
            continue;
        }
        stanza::PlainGcm plain;
        const qsizetype taken = stanza::readPlainGcmMessage(bytes, &plain, m_limits.maxPlainJsonChars);
        if (taken < 0 && bytes.size() <= maxHeld) {
            hold(bytes, buffer);
            return;
        }
        if (taken <= 0 || (m_limits.maxStanzaBytes > 0 && taken > m_limits.maxStanzaBytes))
            break; // the reader decides, and enforces the limits
        bytes = bytes.sliced(taken);
        const bool more = m_handler->plainGcmRead(plain.id, plain.json); // views into `buffer` or `plain`
        if (!keepReading())
            return;
        if (!more) {
            hold(bytes, buffer);
            return;
        }
    }
    if (bytes.isEmpty())
        return;
    if (!m_guard) {
        feedXml(bytes.toByteArray());
        return;
    }
    qsizetype pos = 0;
    while (pos < bytes.size()) {
        QByteArray forReader;
        const XmlSizeGuard::Result result = m_guard->process(bytes, &pos, &forReader);
        if (!feedXml(forReader))
            return;
        if (result == XmlSizeGuard::Result::MarkupTooLong) {
            fail(ReadError::MarkupTooLong, QString::number(m_limits.maxMarkupBytes));
            return;
        }
        if (result == XmlSizeGuard::Result::CutStarted)
            m_truncated = true; // what the reader holds now is all it gets of that run
    }
}

bool StanzaReader::feedXml(const QByteArray &bytes)
{
    if (!bytes.isEmpty()) {
        m_pending.append(bytes);
        m_reader->addData(bytes);
    }
    if (!processTokens() || !keepReading())
        return false;
    // Drop what is before the current stanza; erasing at the front is cheap.
    if (m_pendingHead > 0) {
        m_pending.remove(0, m_pendingHead);
        m_pendingHead = 0;
    }
    // Bounds memory for a stanza that never ends (or a start tag that never closes).
    if (m_limits.maxStanzaBytes > 0 && m_pending.size() > m_limits.maxStanzaBytes)
        return fail(ReadError::StanzaTooLarge, QString::number(m_limits.maxStanzaBytes));
    return true;
}

bool StanzaReader::fail(ReadError error, const QString &detail)
{
    m_handler->readFailed(error, detail);
    return false;
}

// Moves the start of the next stanza to where the reader is; returns the bytes
// passed over (the size of what just ended there). The reader counts UTF-16
// units, m_pending holds valid UTF-8: walk it a character at a time.
qint64 StanzaReader::markStanzaBoundary()
{
    const qint64 target = m_reader->characterOffset();
    const qsizetype from = m_pendingHead;
    while (m_pendingHeadUnits < target && m_pendingHead < m_pending.size()) {
        const auto b = static_cast<unsigned char>(m_pending.at(m_pendingHead));
        const int length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        if (m_pendingHead + length > m_pending.size())
            break;
        m_pendingHead += length;
        m_pendingHeadUnits += length == 4 ? 2 : 1;
    }
    return m_pendingHead - from;
}

bool StanzaReader::processTokens()
{
    // m_reader is read afresh each round: a stream restart replaces it, and
    // what was left in the old one has been handed to the new one.
    while (keepReading() && !m_reader->atEnd()) {
        QXmlStreamReader *reader = m_reader.get();
        const QXmlStreamReader::TokenType token = reader->readNext();
        switch (token) {
        case QXmlStreamReader::StartDocument: {
            // XMPP is UTF-8 only (RFC 6120 11.6); the bytes were checked as such.
            const QStringView encoding = reader->documentEncoding();
            if (!encoding.isEmpty() && encoding.compare(u"UTF-8", Qt::CaseInsensitive) != 0)
                return fail(ReadError::UnsupportedEncoding, QStringLiteral("only UTF-8 is supported"));
            break;
        }
        case QXmlStreamReader::NoToken:
        case QXmlStreamReader::Comment:
        case QXmlStreamReader::ProcessingInstruction:
            break;
        case QXmlStreamReader::DTD:
        case QXmlStreamReader::EntityReference:
            if (m_limits.rejectDtd)
                return fail(
                    ReadError::RestrictedXml, QStringLiteral("DTDs and entity references are not allowed"));
            break;
        case QXmlStreamReader::Invalid:
            if (reader->error() == QXmlStreamReader::PrematureEndOfDocumentError)
                return true; // wait for more data
            return fail(ReadError::NotWellFormed, reader->errorString());
        case QXmlStreamReader::EndDocument:
            return fail(ReadError::DocumentEnded, QStringLiteral("document ended"));
        case QXmlStreamReader::StartElement: {
            const bool isStream = reader->name() == QLatin1String("stream")
                && reader->namespaceUri() == QLatin1String(kStreamsNs);
            if (!m_streamOpen) {
                if (!isStream)
                    return fail(ReadError::NotAStream, QStringLiteral("expected <stream:stream>"));
                m_streamOpen = true;
                StreamHeader header;
                for (const QXmlStreamNamespaceDeclaration &d : reader->namespaceDeclarations()) {
                    if (d.prefix().isEmpty())
                        header.defaultNsIsClient = d.namespaceUri() == QLatin1String(kClientNs);
                }
                header.to = reader->attributes().value(QLatin1String("to")).toString();
                m_defaultNsIsClient = header.defaultNsIsClient;
                markStanzaBoundary();
                const bool silent = m_silentOpen;
                m_silentOpen = false;
                if (!silent)
                    m_handler->streamOpened(header);
                break;
            }
            if (m_depth == 0 && isStream)
                return fail(
                    ReadError::StreamInsideStream, QStringLiteral("a stream header inside the stream"));
            if (m_depth + 1 > m_limits.maxDepth)
                return fail(ReadError::TooDeep, QString::number(m_limits.maxDepth));
            if (m_depth == 0) {
                m_stanzaElements = 0;
                m_oversized = false;
            }
            if (m_limits.maxStanzaElements > 0 && ++m_stanzaElements > m_limits.maxStanzaElements)
                return fail(ReadError::TooManyElements, QString::number(m_limits.maxStanzaElements));
            ++m_depth;
            if (m_depth <= m_limits.keptDepth) {
                XmlElement element;
                element.name = reader->name().toString();
                element.ns = reader->namespaceUri().toString();
                element.attributes = reader->attributes();
                m_stack.push_back(std::move(element));
            }
            break;
        }
        case QXmlStreamReader::Characters:
            if (m_depth == 0) {
                markStanzaBoundary(); // white space keep-alive between stanzas
            } else if (m_depth <= m_limits.keptDepth) {
                QString &text = m_stack.back().text;
                if (m_limits.maxRunChars > 0 && text.size() + reader->text().size() > m_limits.maxRunChars) {
                    m_oversized = true; // dropped, not buffered
                    text = QString();
                } else if (!m_oversized || m_limits.maxRunChars == 0) {
                    text += reader->text();
                }
            }
            break;
        case QXmlStreamReader::EndElement: {
            if (m_depth == 0) {
                m_handler->streamClosed(); // the peer ended its stream
                return false;
            }
            const int depth = m_depth--;
            if (depth > m_limits.keptDepth)
                break;
            XmlElement done = std::move(m_stack.back());
            m_stack.pop_back();
            if (depth > 1) {
                m_stack.back().children.push_back(std::move(done));
                break;
            }
            if (markStanzaBoundary() > m_limits.maxStanzaBytes && m_limits.maxStanzaBytes > 0)
                return fail(ReadError::StanzaTooLarge, QString::number(m_limits.maxStanzaBytes));
            const bool oversized = m_oversized;
            m_oversized = false;
            m_handler->stanzaRead(std::move(done), oversized);
            break;
        }
        }
        if (m_truncated) {
            // The token that completes the cut run: a text node or CDATA section (Characters)
            // or a start tag whose attribute value was cut. Its stanza is not what was sent.
            if ((token == QXmlStreamReader::Characters || token == QXmlStreamReader::StartElement)
                && m_depth >= 1)
                m_oversized = true;
            m_truncated = false;
        }
    }
    return keepReading();
}

} // namespace ccs::xmpp
