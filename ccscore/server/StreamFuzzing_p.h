#pragma once

// A socket-free way into the emulator's per-connection stream handling
// (EmulatorStream: stream header, SASL PLAIN, restart, bind, iq, <message>
// with <gcm>, stream errors, the UTF-8, size and depth checks), for libFuzzer
// and tests. Deterministic, needs no event loop and no QCoreApplication,
// leaves nothing behind.

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace ccs::emulator {

struct StreamRunOptions {
    // Replay a valid client login (emulatorLoginTranscript()) before the
    // input, so the input arrives on a bound stream.
    bool startBound = false;
    // Feed the input in pieces of this many bytes (0: all at once): splits
    // tags, entities and UTF-8 sequences across reads.
    qsizetype chunkBytes = 0;
    qint64 maxStanzaBytes = 16 * 1024; // small, so a fuzzer reaches the limit
    int maxDepth = 16;
    int maxStanzaElements = 1000;
};

struct StreamRunResult {
    QByteArray output; // every byte the emulator wrote
    bool authenticated = false;
    bool bound = false;
    bool closed = false; // the emulator ended the stream
    QString streamError; // the condition of the stream error sent, if any
    int gcmReceived = 0; // <gcm> payloads handed over
    int answers = 0; // ACKs, NACKs and stanza errors written for them
};

// The sender ID and API key the run accepts (a fixed test credential).
inline constexpr auto kStreamRunSenderId = "1234";
inline constexpr auto kStreamRunApiKey = "fuzz-key";

// The client side of a valid login: stream header, SASL PLAIN, restart, bind.
QByteArray emulatorLoginTranscript();

// Feeds input to one EmulatorStream in its socket-free mode. Each <gcm>
// payload is answered as EmulatorServer does: JSON parse (stanza error when
// it fails), ACKs of upstream messages taken, downstream messages checked by
// the shared validation rules (stanza error or NACK) and otherwise ACKed.
StreamRunResult runEmulatorStream(QByteArrayView input, const StreamRunOptions &options = {});

} // namespace ccs::emulator
