#pragma once

#include <QString>
#include <QStringList>

// The one place that says which QXmpp release ccscore's use of QXmpp is
// verified with. What depends on it (QXmppTransport, public headers only):
//  - disabledSaslMechanisms(): every mechanism that release implements but
//    PLAIN, so that an authenticated QXmppOutgoingClient means SASL PLAIN;
//  - after a bind, that release replaces the configured user (SENDER_ID@domain)
//    with the bound JID's local part (how the client tells it bound);
//  - the hand-over after bind: that release's reader parses its buffer all or
//    nothing, so once it has handed on an element it holds nothing back, and
//    the stream object (QXmppOutgoingClient) can be deleted then while its
//    socket (QXmppOutgoingClient::socket()) lives on.
// tst_xmpp_stanzareader fails on any other release: check the three, then move the pin.
namespace ccs::xmpp {

inline constexpr int kQXmppVerifiedMajor = 1;
inline constexpr int kQXmppVerifiedMinor = 10;
inline constexpr int kQXmppVerifiedPatch = 3;

QString qxmppVerifiedVersion(); // "1.10.3"
QString qxmppBuildVersion(); // QXMPP_VERSION of the headers ccscore was built with
QString qxmppRuntimeVersion(); // QXmppVersion() of the library loaded
bool qxmppIsVerified(); // both are the pinned release

// The SASL mechanisms the pinned release implements, PLAIN left out.
QStringList disabledSaslMechanisms();

} // namespace ccs::xmpp
