#pragma once

#include <QFrame>

class QLabel;
class QToolButton;

namespace ccs::ui {

// An inline banner under the connection bar (as KeePassXC's MessageWidget):
// errors and notices where they happened, never a pop-up.
class MessageBanner : public QFrame
{
    Q_OBJECT
public:
    enum class Kind { Information, Warning, Error, Positive };

    explicit MessageBanner(QWidget *parent = nullptr);

    // Keeps the banner's place in a layout whether it shows or not, so nothing
    // below it moves: `slot` (in the layout, a sibling of the banner) reserves
    // `lines` lines of text, the banner is drawn over it, and a longer message
    // overlaps what is below the slot instead of pushing it down.
    void reserveSpace(QWidget *slot, int lines = 1);
    int reservedHeight(int lines) const;

    void showMessage(const QString &text, Kind kind = Kind::Information);
    void clear();
    QString text() const;
    Kind kind() const { return m_kind; }

protected:
    void changeEvent(QEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void applyStyle();
    void placeOverSlot();

    QLabel *m_icon = nullptr;
    QLabel *m_label = nullptr;
    QToolButton *m_close = nullptr;
    Kind m_kind = Kind::Information;
    QWidget *m_slot = nullptr;
    int m_reservedLines = 1;
};

} // namespace ccs::ui
