// libFuzzer target: the emulator's per-connection stream handling through its
// socket-free entry point (server/StreamFuzzing_p.h): no socket, no TLS, no
// event loop. The first byte picks how the rest arrives: bit 0 set = after a
// valid login (stream, SASL PLAIN, restart, bind), so CCS stanzas are reached
// at once, clear = from the first byte of the stream; bits 1-3 = N, the rest
// is fed in pieces of 2^(N-1) bytes (N = 0: all at once), which splits tags,
// entities and UTF-8 sequences across reads. Nothing may crash, hang or leak,
// and what the emulator writes must hold together.

#include "server/StreamFuzzing_p.h"

#include <QLoggingCategory>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    QLoggingCategory::setFilterRules(QStringLiteral("ccs.*=false"));
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ccs::emulator::StreamRunOptions options;
    options.startBound = (data[0] & 1) != 0;
    const int chunkBits = (data[0] >> 1) & 7;
    options.chunkBytes = chunkBits == 0 ? 0 : qsizetype(1) << (chunkBits - 1);
    // Limits low enough for inputs of a few KiB to reach them.
    options.maxStanzaBytes = 2048;
    options.maxDepth = 8;
    options.maxStanzaElements = 64;
    const QByteArrayView input(reinterpret_cast<const char *>(data) + 1, qsizetype(size - 1));
    const ccs::emulator::StreamRunResult result = ccs::emulator::runEmulatorStream(input, options);

    // Invariants: the login replay always binds; a stream error always ends
    // the stream; the emulator never answers more <gcm> payloads than it
    // got, and a stream it ends ends with </stream:stream>.
    if (options.startBound && !result.bound)
        std::abort();
    if (!result.streamError.isEmpty() && !result.closed)
        std::abort();
    if (result.answers > result.gcmReceived)
        std::abort();
    if (result.closed && !result.output.endsWith("</stream:stream>"))
        std::abort();
    return 0;
}
