#pragma once

#include "XmlElement_p.h"
#include "protocol/Utf8Validator_p.h"
#include "xmpp/XmlSizeGuard_p.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QXmlStreamReader>

#include <memory>
#include <vector>

namespace ccs::xmpp {

// The start of a plain stanza that a read cut off waits for the rest, up to
// this many bytes (a CCS stanza is a few KiB); a longer one goes to the XML reader.
inline constexpr qsizetype kMaxPlainPending = 16 * 1024;

struct ReaderLimits {
    qint64 maxStanzaBytes = 0; // bytes of one stanza, checked while it still arrives; 0: none
    int maxDepth = 32; // element nesting below the stream element
    int maxStanzaElements = 0; // elements in one stanza; 0: none
    int keptDepth = 16; // levels of a stanza kept in its XmlElement tree (deeper ones are read, not kept)
    // Text nodes, attribute values, comments... longer than this are cut (XmlSizeGuard) and
    // their stanza is marked oversized; 0: not cut (maxStanzaBytes bounds them instead).
    qsizetype maxRunChars = 0;
    qsizetype maxMarkupBytes = 0; // with maxRunChars: a longer tag or declaration ends the stream
    qsizetype maxPlainJsonChars = 1 << 20; // the fast path's limit on one <gcm> payload
    bool rejectDtd = false; // a DTD or entity reference ends the stream (restricted XML)
};

// The limits of each end, defined here once. The emulator's are flags.
ReaderLimits clientReaderLimits();
ReaderLimits serverReaderLimits(qint64 maxStanzaBytes, int maxDepth, int maxStanzaElements);

enum class ReadError {
    NotUtf8, // detail: the offset of the bad byte
    NotWellFormed, // detail: the XML reader's message (lineNumber(), columnNumber())
    DocumentEnded,
    UnsupportedEncoding,
    RestrictedXml,
    NotAStream, // the first element is not <stream:stream>
    StreamInsideStream, // a stream header where a stanza belongs
    TooDeep,
    TooManyElements,
    StanzaTooLarge,
    MarkupTooLong,
};

struct StreamHeader {
    QString to;
    bool defaultNsIsClient = false; // xmlns='jabber:client'
};

// One incremental reader of an XMPP stream, for both ends: bytes in as they
// arrive (any split, even inside a UTF-8 sequence), stanzas out. It checks
// UTF-8 (RFC 3629), skips white space between stanzas (keep-alives), reads
// the plain <gcm> messages CCS traffic is made of on a fast path while the
// XML reader has nothing buffered (the start of one a read cut off waits for
// the rest, see kMaxPlainPending), and reads everything else with
// QXmlStreamReader into a bounded XmlElement tree, under the limits given.
// Every stanza takes one of the two paths, once.
class StanzaReader
{
public:
    class Handler
    {
    public:
        virtual ~Handler() = default;
        virtual void streamOpened(const StreamHeader &header) = 0;
        // oversized: a run was cut (maxRunChars): the stanza is not what was sent.
        virtual void stanzaRead(XmlElement &&stanza, bool oversized) = 0;
        // <message [id=ID]><gcm xmlns="google:mobile:data">JSON</gcm></message> off the fast
        // path, ID and JSON unescaped, in bytes (ASCII: see stanza::PlainGcm). Views into the
        // bytes read (or, for a text with entities, into a buffer of its own), valid only during
        // the call: copy what must outlive it. False: stop here; the rest waits for the next
        // feed() or resume().
        virtual bool plainGcmRead(QByteArrayView id, QByteArrayView json) = 0;
        virtual void streamClosed() = 0; // </stream:stream>
        virtual void readFailed(ReadError error, const QString &detail) = 0;
        // Asked after each of the calls above: false ends reading (the stream is being ended).
        virtual bool keepReading() const = 0;
    };

    StanzaReader(const ReaderLimits &limits, Handler *handler);
    ~StanzaReader();

    void feed(QByteArrayView bytes) { feed(bytes, nullptr); }
    // The same, for bytes in a QByteArray: what a stop leaves to read later is kept
    // by sharing it, not copied.
    void feed(const QByteArray &bytes) { feed(bytes, &bytes); }
    void resume() { feed(QByteArrayView(), nullptr); }
    bool hasHeldBytes() const { return m_plainPending.size() > m_plainPendingFrom; }

    // A new stream header is expected next (after SASL); bytes already given
    // after the element that was just read belong to the new stream.
    void restartStream();
    // Reads the opening of a stream that was already read elsewhere (the client
    // takes over after QXmpp bound): no streamOpened() for it.
    void assumeStreamOpen(const QByteArray &header);
    void setPlainEnabled(bool enabled) { m_plainEnabled = enabled; }

    qint64 lineNumber() const { return m_reader->lineNumber(); }
    qint64 columnNumber() const { return m_reader->columnNumber(); }
    const ReaderLimits &limits() const { return m_limits; }

private:
    // `owner`, if given, holds `bytes`.
    void feed(QByteArrayView bytes, const QByteArray *owner);
    void feedValid(QByteArrayView bytes, const QByteArray *owner);
    void hold(QByteArrayView rest, const QByteArray &buffer);
    bool feedXml(const QByteArray &bytes); // false: stop reading
    bool processTokens(); // false: stop reading
    bool fail(ReadError error, const QString &detail);
    qint64 markStanzaBoundary();
    bool plainReady() const;
    bool keepReading() const { return m_handler->keepReading(); }

    ReaderLimits m_limits;
    Handler *m_handler;
    std::unique_ptr<QXmlStreamReader> m_reader;
    Utf8Validator m_utf8;
    std::unique_ptr<XmlSizeGuard> m_guard; // when maxRunChars > 0
    bool m_truncated = false; // the guard cut the construct the reader is in the middle of
    bool m_plainEnabled = false;
    bool m_streamOpen = false;
    bool m_silentOpen = false; // assumeStreamOpen(): no streamOpened()
    bool m_defaultNsIsClient = false;
    std::vector<XmlElement> m_stack; // open elements of the stanza, up to keptDepth
    int m_depth = 0; // open elements below the stream element
    int m_stanzaElements = 0;
    bool m_oversized = false;
    // Bytes given to the current reader from where the current (or next)
    // stanza began: the limit counts these, so a stanza, or a start tag, that
    // never ends cannot grow without bound however the reader buffers it.
    QByteArray m_pending;
    qsizetype m_pendingHead = 0; // m_pending[0, head) is before the stanza start
    qint64 m_pendingHeadUnits = 0; // reader characterOffset() of m_pendingHead
    // The start of a plain stanza a read cut off, or the rest after a stop: m_plainPending
    // from m_plainPendingFrom on (often the whole of a read, shared, with a stop's offset).
    QByteArray m_plainPending;
    qsizetype m_plainPendingFrom = 0;
};

} // namespace ccs::xmpp
