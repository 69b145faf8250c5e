#pragma once

#include "Messages.h"

#include <QList>
#include <QString>

#include <optional>

namespace ccs {

// A downstream request as a form holds it: plain values, no widgets. The
// composer fills one from its fields, once, and hands it to buildRequest().
struct RequestForm {
    QString to;
    QString messageId;
    QString dataText; // JSON object text; empty: no data
    bool notificationEnabled = false;
    QString notificationText; // JSON object text; ignored unless enabled
    QString collapseKey;
    std::optional<qint64> timeToLiveSeconds; // none: CCS's default
    QString priority; // "", "normal", "high"
    bool delayWhileIdle = false;
    bool deliveryReceipt = false;
    bool dryRun = false;
};

// Where in the form a problem belongs.
enum class FormField { Recipient, MessageId, Data, Notification, Options };

// Which form field a request's JSON path ("data.from", "time_to_live", "to") belongs to.
FormField formFieldForPath(const QString &path);

// A 0-based index into a QString (UTF-16, as a text editor counts) and the
// same place as 1-based line:column (characters, as the codec's messages count).
struct TextPosition {
    int index = -1; // -1: unknown
    int line = 0;
    int column = 0;
};

// Where a UTF-8 byte offset (ParseError::offset) falls in `text`; an offset
// past the end is the end.
TextPosition textPositionOfUtf8Offset(const QString &text, int utf8Offset);

struct FieldError {
    QString field; // JSON path ("data.from", "time_to_live"), or "data"/"notification" for syntax
    QString message; // a sentence a person can act on
    FormField formField = FormField::Options;
    // The key the path names inside data/notification ("from" for "data.from"); empty otherwise.
    QString key;
    // A syntax error in data/notification: where, in that field's text.
    TextPosition position;
    friend bool operator==(const FieldError &, const FieldError &) = default;
};

// A problem at a JSON path, with its form field and key filled in.
FieldError fieldErrorAt(const QString &path, const QString &message);

struct RequestBuild {
    std::optional<DownstreamMessage> message; // set when the form is valid
    QList<FieldError> errors; // empty when valid
    // The size of `data` as CCS counts it, whenever data parses (even if other fields
    // are wrong); 0 for an empty data field; none while data does not parse.
    std::optional<int> dataBytes;
    bool ok() const { return message.has_value(); }
};

// Form values -> a validated downstream message, or every problem with the field
// it belongs to. JSON syntax first; the field rules (Validation.h) once it parses.
RequestBuild buildRequest(const RequestForm &form);

} // namespace ccs
