// libFuzzer target: the one stanza reader (xmpp/StanzaReader_p.h) of both ends,
// on a stream already open (as after bind). The first byte picks how: bit 0
// set = the client's limits (runs cut, deep nesting read on), clear = the
// emulator's (small here, so that inputs of a few KiB reach them); bits 1-3 =
// N, the rest is fed in pieces of 2^(N-1) bytes (N = 0: all at once); bit 4 =
// the handler declines every third plain stanza, and the rest is resumed.
// Nothing may crash, hang or leak; nothing is reported after the stream
// ended; a stanza is reported once; a plain stanza's id and JSON are what the fast
// path may take.

#include "xmpp/StanzaReader_p.h"

#include <QLoggingCategory>

#include <cstdint>
#include <cstdlib>

namespace {

class Checker : public ccs::xmpp::StanzaReader::Handler
{
public:
    bool decline = false;
    bool ended = false;
    int plain = 0;
    int stanzas = 0;

    void streamOpened(const ccs::xmpp::StreamHeader &) override { std::abort(); } // assumed open
    void stanzaRead(ccs::xmpp::XmlElement &&stanza, bool) override
    {
        if (ended || stanza.name.isEmpty())
            std::abort();
        ++stanzas;
    }
    bool plainGcmRead(QByteArrayView id, QByteArrayView json) override
    {
        if (ended)
            std::abort();
        // Views valid during the call (read to the end here, so a sanitizer sees a dangling
        // one), unescaped, of what the fast path takes: printable ASCII, and in the JSON
        // tabs and line feeds.
        for (const char c : id) {
            if (c < 0x20 || c > 0x7e)
                std::abort();
        }
        for (const char c : json) {
            if ((c < 0x20 || c > 0x7e) && c != '\t' && c != '\n')
                std::abort();
        }
        return !decline || ++plain % 3 != 0;
    }
    void streamClosed() override
    {
        if (ended)
            std::abort();
        ended = true;
    }
    void readFailed(ccs::xmpp::ReadError, const QString &) override
    {
        if (ended)
            std::abort();
        ended = true;
    }
    bool keepReading() const override { return !ended; }
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    QLoggingCategory::setFilterRules(QStringLiteral("ccs.*=false"));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const bool client = (data[0] & 1) != 0;
    const int chunkBits = (data[0] >> 1) & 7;
    const qsizetype chunk = chunkBits == 0 ? 0 : qsizetype(1) << (chunkBits - 1);
    Checker checker;
    checker.decline = (data[0] & 16) != 0;
    ccs::xmpp::ReaderLimits limits
        = client ? ccs::xmpp::clientReaderLimits() : ccs::xmpp::serverReaderLimits(2048, 8, 64);
    if (client) { // small enough to be reached
        limits.maxRunChars = 512;
        limits.maxMarkupBytes = 1024;
        limits.maxDepth = 64;
    }
    ccs::xmpp::StanzaReader reader(limits, &checker);
    reader.assumeStreamOpen(
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
    reader.setPlainEnabled(true);
    const QByteArrayView input(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const qsizetype step = chunk == 0 ? std::max<qsizetype>(input.size(), 1) : chunk;
    for (qsizetype i = 0; i < input.size() && !checker.ended; i += step)
        reader.feed(input.sliced(i, std::min(step, input.size() - i)));
    for (int i = 0; i < 10000 && reader.hasHeldBytes() && !checker.ended; ++i)
        reader.resume();
    return 0;
}
