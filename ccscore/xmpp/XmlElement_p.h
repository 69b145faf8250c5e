#pragma once

#include <QString>
#include <QStringView>
#include <QXmlStreamAttributes>

#include <vector>

namespace ccs::xmpp {

// The XMPP namespaces both ends of a CCS stream use.
inline constexpr auto kClientNs = "jabber:client";
inline constexpr auto kStreamsNs = "http://etherx.jabber.org/streams";
inline constexpr auto kStreamErrorNs = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr auto kStanzaErrorNs = "urn:ietf:params:xml:ns:xmpp-stanzas";
inline constexpr auto kSaslNs = "urn:ietf:params:xml:ns:xmpp-sasl";
inline constexpr auto kBindNs = "urn:ietf:params:xml:ns:xmpp-bind";
inline constexpr auto kSessionNs = "urn:ietf:params:xml:ns:xmpp-session";
inline constexpr auto kPingNs = "urn:xmpp:ping";

// A top-level stanza as StanzaReader read it: enough of a tree for CCS (the
// reader keeps a bounded number of levels; see ReaderLimits::keptDepth).
struct XmlElement {
    QString name;
    QString ns;
    QXmlStreamAttributes attributes;
    QString text;
    std::vector<XmlElement> children;

    const XmlElement *child(QStringView childName, QStringView childNs = {}) const;
    QString attribute(QLatin1StringView attributeName) const
    {
        return attributes.value(attributeName).toString();
    }
};

} // namespace ccs::xmpp
