#include "SessionClock_p.h"

#include <QDeadlineTimer>

namespace ccs {

qint64 SteadyClock::nowMs() const
{
    return QDeadlineTimer::current(Qt::PreciseTimer).deadline();
}

} // namespace ccs
