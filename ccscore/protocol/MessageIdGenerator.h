#pragma once

#include <QString>

namespace ccs {

// Readable, unique across processes and restarts:
//   m-20261127-225012-7f3a9c21-000001
//   date, time (UTC), 32 random bits drawn once per process, then a counter.
// Thread safe.
class MessageIdGenerator
{
public:
    static QString next();
    static bool looksGenerated(QStringView id);
};

} // namespace ccs
