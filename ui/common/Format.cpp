#include "Format.h"

#include "UiLog.h"

#include <QDateTime>
#include <QLocale>

Q_LOGGING_CATEGORY(lcUi, "ccs.ui")

namespace ccs::ui {

QString formatClock(qint64 msSinceEpoch)
{
    if (msSinceEpoch <= 0)
        return {};
    return QDateTime::fromMSecsSinceEpoch(msSinceEpoch).toString(QStringLiteral("HH:mm:ss.zzz"));
}

QString formatLatency(qint64 ms)
{
    if (ms < 0)
        return {};
    if (ms < 1000)
        return QStringLiteral("%1 ms").arg(ms);
    if (ms < 60'000)
        return QStringLiteral("%1 s").arg(double(ms) / 1000.0, 0, 'f', ms < 10'000 ? 2 : 1);
    return QStringLiteral("%1 min %2 s").arg(ms / 60'000).arg((ms % 60'000) / 1000);
}

QString formatTtl(qint64 seconds)
{
    struct Unit {
        qint64 size;
        const char *one;
        const char *many;
    };
    static const Unit units[] = {{604800, "week", "weeks"}, {86400, "day", "days"}, {3600, "hour", "hours"},
        {60, "minute", "minutes"}, {1, "second", "seconds"}};
    if (seconds == 0)
        return QStringLiteral("0 s (now or never)");
    QStringList parts;
    qint64 rest = seconds;
    for (const Unit &u : units) {
        if (rest >= u.size) {
            const qint64 n = rest / u.size;
            rest %= u.size;
            parts << QStringLiteral("%1 %2").arg(n).arg(QLatin1String(n == 1 ? u.one : u.many));
            if (parts.size() == 2)
                break;
        }
    }
    return parts.join(QLatin1Char(' '));
}

QString formatCount(qint64 n)
{
    return QLocale::system().toString(n);
}

bool isDark(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightness() < 128;
}

namespace {

QColor tone(int hue, int saturation, const QPalette &palette)
{
    // Darker text on light backgrounds, lighter on dark ones, same hue.
    return isDark(palette) ? QColor::fromHsl(hue, saturation, 170) : QColor::fromHsl(hue, saturation, 80);
}

} // namespace

QColor stateColor(MessageState state, const QPalette &palette)
{
    switch (state) {
    case MessageState::Queued:
    case MessageState::Cancelled:
        return palette.color(QPalette::PlaceholderText);
    case MessageState::InFlight:
        return tone(210, 160, palette);
    case MessageState::Acked:
        return tone(190, 140, palette);
    case MessageState::Delivered:
        return tone(130, 150, palette);
    case MessageState::RetryWaiting:
        return tone(35, 200, palette);
    case MessageState::Nacked:
    case MessageState::Failed:
    case MessageState::Expired:
        return tone(0, 170, palette);
    }
    return palette.color(QPalette::Text);
}

QColor sessionStateColor(SessionState state, const QPalette &palette)
{
    switch (state) {
    case SessionState::Connected:
        return tone(130, 150, palette);
    case SessionState::Connecting:
    case SessionState::Authenticating:
    case SessionState::Reconnecting:
    case SessionState::Draining:
        return tone(40, 200, palette);
    case SessionState::Error:
        return tone(0, 170, palette);
    case SessionState::Disconnected:
        break;
    }
    return palette.color(QPalette::PlaceholderText);
}

QString stateLabel(MessageState state)
{
    switch (state) {
    case MessageState::Queued:
        return QStringLiteral("Queued");
    case MessageState::InFlight:
        return QStringLiteral("In flight");
    case MessageState::Acked:
        return QStringLiteral("ACKed");
    case MessageState::Delivered:
        return QStringLiteral("Delivered");
    case MessageState::RetryWaiting:
        return QStringLiteral("Retry waiting");
    case MessageState::Nacked:
        return QStringLiteral("NACKed");
    case MessageState::Expired:
        return QStringLiteral("Expired");
    case MessageState::Failed:
        return QStringLiteral("Failed");
    case MessageState::Cancelled:
        return QStringLiteral("Cancelled");
    }
    return {};
}

QString sessionStateLabel(SessionState state)
{
    return sessionStateName(state); // the core's names read well as they are
}

} // namespace ccs::ui
