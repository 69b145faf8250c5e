#include "ConstantTime_p.h"

namespace ccs {

bool constantTimeEquals(const QByteArray &a, const QByteArray &b)
{
    // Length leaks, content does not.
    if (a.size() != b.size())
        return false;
    // volatile: the compiler may not stop at the first difference.
    volatile unsigned char diff = 0;
    for (qsizetype i = 0; i < a.size(); ++i)
        diff = diff | static_cast<unsigned char>(a.at(i) ^ b.at(i));
    return diff == 0;
}

} // namespace ccs
