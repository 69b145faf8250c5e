#pragma once

#include <QLoggingCategory>

// ccs.core: the session's decisions (queue, retries, reconnects).
// ccs.xmpp: one connection's stream (TLS, SASL, stanzas).
Q_DECLARE_LOGGING_CATEGORY(lcCcsCore)
Q_DECLARE_LOGGING_CATEGORY(lcCcsXmpp)
