#include "SessionTypes.h"

#include <algorithm>

namespace ccs {

bool isTerminal(MessageState state)
{
    switch (state) {
    case MessageState::Acked:
    case MessageState::Delivered:
    case MessageState::Nacked:
    case MessageState::Expired:
    case MessageState::Failed:
    case MessageState::Cancelled:
        return true;
    case MessageState::Queued:
    case MessageState::InFlight:
    case MessageState::RetryWaiting:
        return false;
    }
    return false;
}

QString stateName(MessageState state)
{
    switch (state) {
    case MessageState::Queued:
        return QStringLiteral("Queued");
    case MessageState::InFlight:
        return QStringLiteral("InFlight");
    case MessageState::Acked:
        return QStringLiteral("Acked");
    case MessageState::Delivered:
        return QStringLiteral("Delivered");
    case MessageState::RetryWaiting:
        return QStringLiteral("RetryWaiting");
    case MessageState::Nacked:
        return QStringLiteral("Nacked");
    case MessageState::Expired:
        return QStringLiteral("Expired");
    case MessageState::Failed:
        return QStringLiteral("Failed");
    case MessageState::Cancelled:
        return QStringLiteral("Cancelled");
    }
    return QStringLiteral("Unknown");
}

QString sessionStateName(SessionState state)
{
    switch (state) {
    case SessionState::Disconnected:
        return QStringLiteral("Disconnected");
    case SessionState::Connecting:
        return QStringLiteral("Connecting");
    case SessionState::Authenticating:
        return QStringLiteral("Authenticating");
    case SessionState::Connected:
        return QStringLiteral("Connected");
    case SessionState::Draining:
        return QStringLiteral("Draining");
    case SessionState::Reconnecting:
        return QStringLiteral("Reconnecting");
    case SessionState::Error:
        return QStringLiteral("Error");
    }
    return QStringLiteral("Unknown");
}

QString sessionErrorName(SessionError error)
{
    switch (error) {
    case SessionError::None:
        return QStringLiteral("None");
    case SessionError::HostNotFound:
        return QStringLiteral("HostNotFound");
    case SessionError::ConnectionRefused:
        return QStringLiteral("ConnectionRefused");
    case SessionError::TlsError:
        return QStringLiteral("TlsError");
    case SessionError::AuthenticationFailed:
        return QStringLiteral("AuthenticationFailed");
    case SessionError::StreamError:
        return QStringLiteral("StreamError");
    case SessionError::ProtocolError:
        return QStringLiteral("ProtocolError");
    case SessionError::ConnectionLost:
        return QStringLiteral("ConnectionLost");
    case SessionError::Timeout:
        return QStringLiteral("Timeout");
    }
    return QStringLiteral("Unknown");
}

int effectiveWindow(const ConnectionSettings &settings)
{
    return std::clamp(settings.windowSize, 1, kMaxPendingPerConnection);
}

} // namespace ccs
