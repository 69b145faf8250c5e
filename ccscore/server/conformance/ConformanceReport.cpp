#include "ConformanceReport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QXmlStreamWriter>

namespace ccs::emulator::conformance {

namespace {
QString label(ConformanceGrader::Status status)
{
    switch (status) {
    case ConformanceGrader::Status::Pass:
        return QStringLiteral("PASS");
    case ConformanceGrader::Status::Fail:
        return QStringLiteral("FAIL");
    case ConformanceGrader::Status::NotExercised:
        break;
    }
    return QStringLiteral("NOT EXERCISED");
}
} // namespace

QString textReport(const ConformanceGrader &grader)
{
    QString out;
    out += QStringLiteral("Conformance report\n");
    out += QStringLiteral("%1  %2  %3\n")
               .arg(QStringLiteral("rule").leftJustified(13), QStringLiteral("result").leftJustified(13),
                   QStringLiteral("detail"));
    out += QString(78, QLatin1Char('-')) + QLatin1Char('\n');
    for (const ConformanceGrader::RuleResult &r : grader.results()) {
        QString detail;
        if (r.status == ConformanceGrader::Status::Fail)
            detail = QStringLiteral("%1 violation(s): %2").arg(r.failures).arg(r.evidence.value(0));
        else if (r.status == ConformanceGrader::Status::Pass)
            detail = r.evidence.value(0, QStringLiteral("ok"));
        else
            detail = QStringLiteral("the app server's traffic never exercised it");
        out += QStringLiteral("%1  %2  %3\n")
                   .arg(r.id.leftJustified(13), label(r.status).leftJustified(13), detail);
        if (r.status == ConformanceGrader::Status::Fail)
            out += QString(30, QLatin1Char(' ')) + r.explanation + QLatin1Char('\n');
    }
    out += QString(78, QLatin1Char('-')) + QLatin1Char('\n');
    const QJsonObject traffic = grader.traffic();
    out += QStringLiteral(
        "traffic: %1 connection(s), %2 downstream message(s) (%3 distinct ids), %4 upstream "
        "message(s), %5 receipt(s), %6 drain(s), %7 drop(s)\n")
               .arg(traffic.value(QLatin1String("connections")).toInt())
               .arg(traffic.value(QLatin1String("downstream")).toInt())
               .arg(traffic.value(QLatin1String("distinct_message_ids")).toInt())
               .arg(traffic.value(QLatin1String("upstream_delivered")).toInt())
               .arg(traffic.value(QLatin1String("receipts_delivered")).toInt())
               .arg(traffic.value(QLatin1String("drains")).toInt())
               .arg(traffic.value(QLatin1String("drops")).toInt());
    out += grader.passed() ? QStringLiteral("PASSED: no rule failed\n") : QStringLiteral("FAILED\n");
    return out;
}

QByteArray jsonReport(const ConformanceGrader &grader, double durationSeconds)
{
    QJsonArray rules;
    for (const ConformanceGrader::RuleResult &r : grader.results()) {
        rules.append(QJsonObject {{QStringLiteral("id"), r.id},
            {QStringLiteral("status"), ConformanceGrader::statusName(r.status)},
            {QStringLiteral("failures"), r.failures},
            {QStringLiteral("evidence"), QJsonArray::fromStringList(r.evidence)},
            {QStringLiteral("explanation"), r.explanation}});
    }
    const QJsonObject root {{QStringLiteral("rules"), rules}, {QStringLiteral("passed"), grader.passed()},
        {QStringLiteral("traffic"), grader.traffic()}, {QStringLiteral("duration_s"), durationSeconds}};
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

QByteArray junitReport(const ConformanceGrader &grader, double durationSeconds)
{
    QByteArray bytes;
    QXmlStreamWriter xml(&bytes);
    xml.setAutoFormatting(true);
    xml.writeStartDocument();
    const QList<ConformanceGrader::RuleResult> results = grader.results();
    int failures = 0;
    int skipped = 0;
    for (const auto &r : results) {
        failures += r.status == ConformanceGrader::Status::Fail ? 1 : 0;
        skipped += r.status == ConformanceGrader::Status::NotExercised ? 1 : 0;
    }
    xml.writeStartElement(QStringLiteral("testsuites"));
    xml.writeStartElement(QStringLiteral("testsuite"));
    xml.writeAttribute(QStringLiteral("name"), QStringLiteral("ccs-conformance"));
    xml.writeAttribute(QStringLiteral("tests"), QString::number(results.size()));
    xml.writeAttribute(QStringLiteral("failures"), QString::number(failures));
    xml.writeAttribute(QStringLiteral("errors"), QStringLiteral("0"));
    xml.writeAttribute(QStringLiteral("skipped"), QString::number(skipped));
    xml.writeAttribute(QStringLiteral("time"), QString::number(durationSeconds, 'f', 3));
    for (const auto &r : results) {
        xml.writeStartElement(QStringLiteral("testcase"));
        xml.writeAttribute(QStringLiteral("classname"), QStringLiteral("ccs-conformance"));
        xml.writeAttribute(QStringLiteral("name"), r.id);
        if (r.status == ConformanceGrader::Status::Fail) {
            xml.writeStartElement(QStringLiteral("failure"));
            xml.writeAttribute(QStringLiteral("message"), r.explanation);
            xml.writeCharacters(r.evidence.join(QLatin1Char('\n')));
            xml.writeEndElement();
        } else if (r.status == ConformanceGrader::Status::NotExercised) {
            xml.writeStartElement(QStringLiteral("skipped"));
            xml.writeAttribute(
                QStringLiteral("message"), QStringLiteral("not exercised by the app server's traffic"));
            xml.writeEndElement();
        }
        xml.writeTextElement(QStringLiteral("system-out"), r.explanation);
        xml.writeEndElement();
    }
    xml.writeEndElement();
    xml.writeEndElement();
    xml.writeEndDocument();
    return bytes;
}

bool writeReport(const QString &path, const QByteArray &bytes, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
        if (error)
            *error = QStringLiteral("cannot write %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

} // namespace ccs::emulator::conformance
