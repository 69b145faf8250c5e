#pragma once

#include <QByteArray>
#include <QString>

// Every byte of XMPP that ccscore writes itself, for both ends of the stream:
// the client's <gcm> messages and stream close, the emulator's stream header,
// features, SASL and bind answers, <gcm> messages and errors. (QXmpp writes
// the client's side of the handshake.)
namespace ccs::xmpp::writer {

// <message id="ID"><gcm xmlns="google:mobile:data">JSON</gcm></message>, the
// form stanza::gcmMessage() defines (the client's and the emulator's own).
QByteArray gcmMessage(const QString &stanzaId, const QByteArray &json);
// CONNECTION_DRAINING as the guide prints it: <message> without an id and
// <data:gcm xmlns:data="google:mobile:data">, the JSON on its own line.
QByteArray drainingControl(const QByteArray &json);
// The stanza error CCS sends for a request it cannot take.
QByteArray gcmStanzaError(
    const QString &stanzaId, const QString &to, const QByteArray &originalJson, const QString &text);

QByteArray streamHeader(const QString &from, const QString &streamId);
QByteArray streamClose(); // </stream:stream>
QByteArray streamError(const QString &condition, const QString &text);
QByteArray saslFeatures(); // the mechanisms CCS offered, PLAIN among them
QByteArray bindFeatures(); // bind and session, after the restart
QByteArray saslSuccess();
QByteArray saslFailure(const char *condition);
QByteArray bindResult(const QString &iqId, const QString &fullJid);
QByteArray iqResult(const QString &iqId);
QByteArray iqError(const QString &iqId, const char *errorType, const char *condition);

} // namespace ccs::xmpp::writer
