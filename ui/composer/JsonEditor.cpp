#include "JsonEditor.h"

#include "common/Format.h"

#include <QFontDatabase>
#include <QHelpEvent>
#include <QJsonDocument>
#include <QKeyEvent>
#include <QRegularExpression>
#include <QTextBlock>
#include <QToolTip>

namespace ccs::ui {

JsonHighlighter::JsonHighlighter(QTextDocument *document)
    : QSyntaxHighlighter(document)
{ }

void JsonHighlighter::updateColors(const QPalette &palette)
{
    const bool dark = isDark(palette);
    m_key.setForeground(dark ? QColor::fromHsl(205, 150, 175) : QColor::fromHsl(215, 170, 85));
    m_string.setForeground(dark ? QColor::fromHsl(95, 110, 165) : QColor::fromHsl(120, 150, 70));
    m_number.setForeground(dark ? QColor::fromHsl(30, 170, 170) : QColor::fromHsl(25, 190, 95));
    m_literal.setForeground(dark ? QColor::fromHsl(290, 110, 180) : QColor::fromHsl(290, 120, 95));
    m_literal.setFontWeight(QFont::DemiBold);
    m_punctuation.setForeground(palette.color(QPalette::PlaceholderText));
    rehighlight();
}

void JsonHighlighter::highlightBlock(const QString &text)
{
    static const QRegularExpression token(QStringLiteral(
        R"RX(("(?:[^"\\]|\\.)*"?)(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([{}\[\],:]))RX"));
    auto it = token.globalMatch(text);
    while (it.hasNext()) {
        const auto m = it.next();
        if (m.capturedLength(1)) {
            const bool isKey = m.capturedLength(2) > 0;
            setFormat(int(m.capturedStart(1)), int(m.capturedLength(1)), isKey ? m_key : m_string);
            if (isKey)
                setFormat(int(m.capturedStart(2)), int(m.capturedLength(2)), m_punctuation);
        } else if (m.capturedLength(3)) {
            setFormat(int(m.capturedStart(3)), int(m.capturedLength(3)), m_number);
        } else if (m.capturedLength(4)) {
            setFormat(int(m.capturedStart(4)), int(m.capturedLength(4)), m_literal);
        } else if (m.capturedLength(5)) {
            setFormat(int(m.capturedStart(5)), int(m.capturedLength(5)), m_punctuation);
        }
    }
}

JsonEditor::JsonEditor(QWidget *parent)
    : QPlainTextEdit(parent)
    , m_highlighter(new JsonHighlighter(document()))
{
    QFont font = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    setFont(font);
    setTabStopDistance(fontMetrics().horizontalAdvance(QLatin1Char(' ')) * 2);
    setLineWrapMode(QPlainTextEdit::WidgetWidth);
    setTabChangesFocus(true); // Tab moves on, as in any form; indentation comes from Enter
    m_highlighter->updateColors(palette());
}

QSize JsonEditor::sizeHint() const
{
    const QSize base = QPlainTextEdit::sizeHint();
    return {base.width(), fontMetrics().lineSpacing() * 7 + 12};
}

void JsonEditor::changeEvent(QEvent *event)
{
    QPlainTextEdit::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        m_highlighter->updateColors(palette());
        setMarks(m_marks);
    }
}

bool JsonEditor::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto help = static_cast<QHelpEvent *>(event);
        const int pos = cursorForPosition(viewport()->mapFromParent(help->pos())).position();
        for (const Mark &m : std::as_const(m_marks)) {
            if (pos >= m.position && pos <= m.position + m.length) {
                QToolTip::showText(help->globalPos(), m.message, this);
                return true;
            }
        }
    }
    return QPlainTextEdit::event(event);
}

void JsonEditor::keyPressEvent(QKeyEvent *event)
{
    // Keep the indentation of the line above on Enter, one level more after { or [.
    if ((event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter)
        && event->modifiers() == Qt::NoModifier) {
        QTextCursor cursor = textCursor();
        const QString line = cursor.block().text().left(cursor.positionInBlock());
        QString indent;
        for (const QChar c : line) {
            if (c != QLatin1Char(' '))
                break;
            indent += c;
        }
        const QString trimmed = line.trimmed();
        if (trimmed.endsWith(QLatin1Char('{')) || trimmed.endsWith(QLatin1Char('[')))
            indent += QStringLiteral("  ");
        cursor.insertText(QLatin1Char('\n') + indent);
        return;
    }
    if (event->key() == Qt::Key_F && event->modifiers() == (Qt::ControlModifier | Qt::ShiftModifier)) {
        reformat();
        return;
    }
    QPlainTextEdit::keyPressEvent(event);
}

bool JsonEditor::reformat()
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(toPlainText().toUtf8(), &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        return false;
    QTextCursor cursor(document());
    cursor.select(QTextCursor::Document);
    cursor.insertText(QString::fromUtf8(doc.toJson(QJsonDocument::Indented)).trimmed());
    return true;
}

int JsonEditor::findKey(const QString &key) const
{
    const QRegularExpression re(QStringLiteral("\"%1\"\\s*:").arg(QRegularExpression::escape(key)));
    const auto m = re.match(toPlainText());
    return m.hasMatch() ? int(m.capturedStart()) : -1;
}

void JsonEditor::setMarks(const QList<Mark> &marks)
{
    m_marks = marks;
    QList<QTextEdit::ExtraSelection> selections;
    const QColor red = stateColor(MessageState::Failed, palette());
    for (const Mark &m : marks) {
        QTextEdit::ExtraSelection sel;
        sel.cursor = QTextCursor(document());
        const int end = std::max(0, document()->characterCount() - 1);
        sel.cursor.setPosition(std::clamp(m.position, 0, end));
        sel.cursor.setPosition(
            std::clamp(m.position + std::max(1, m.length), 0, end), QTextCursor::KeepAnchor);
        if (!sel.cursor.hasSelection()) {
            // An error at the very end (a missing brace): mark the last character.
            sel.cursor.setPosition(std::max(0, end - 1));
            sel.cursor.setPosition(end, QTextCursor::KeepAnchor);
        }
        sel.format.setUnderlineStyle(QTextCharFormat::WaveUnderline);
        sel.format.setUnderlineColor(red);
        QColor background = red;
        background.setAlpha(40);
        sel.format.setBackground(background);
        sel.format.setToolTip(m.message);
        selections.append(sel);
    }
    setExtraSelections(selections);
}

} // namespace ccs::ui
