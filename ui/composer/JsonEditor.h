#pragma once

#include <QPlainTextEdit>
#include <QSyntaxHighlighter>

namespace ccs::ui {

// Keys, strings, numbers and literals in colours that follow the palette.
class JsonHighlighter : public QSyntaxHighlighter
{
    Q_OBJECT
public:
    explicit JsonHighlighter(QTextDocument *document);
    void updateColors(const QPalette &palette);

protected:
    void highlightBlock(const QString &text) override;

private:
    QTextCharFormat m_key, m_string, m_number, m_literal, m_punctuation;
};

// A small JSON editor: monospace, two-space indents, highlighting, and
// wavy underlines where validation found a problem.
class JsonEditor : public QPlainTextEdit
{
    Q_OBJECT
public:
    explicit JsonEditor(QWidget *parent = nullptr);

    struct Mark {
        int position = 0;
        int length = 1;
        QString message;
    };
    void setMarks(const QList<Mark> &marks);
    const QList<Mark> &marks() const { return m_marks; }
    // Where `"key"` first appears as an object key (for a field path like data.key), or -1.
    int findKey(const QString &key) const;
    // Reformats the text when it parses (Ctrl+Shift+F).
    bool reformat();

    QSize sizeHint() const override;

protected:
    void keyPressEvent(QKeyEvent *event) override;
    void changeEvent(QEvent *event) override;
    bool event(QEvent *event) override;

private:
    JsonHighlighter *m_highlighter;
    QList<Mark> m_marks;
};

} // namespace ccs::ui
